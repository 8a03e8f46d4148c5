package io.keyrelay.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints rows as left-aligned columns separated by two spaces. A cell may hold several lines ({@code \n}); its row
 * then takes as many lines, the other cells blank below their first line.
 */
final class Table {
    private Table() {}

    static void print(PrintWriter out, List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                for (String line : r[i].split("\n", -1)) {
                    width[i] = Math.max(width[i], line.length());
                }
            }
        }
        for (String[] r : rows) {
            String[][] cells = new String[cols][];
            int height = 1;
            for (int i = 0; i < cols; i++) {
                cells[i] = r[i].split("\n", -1);
                height = Math.max(height, cells[i].length);
            }
            for (int h = 0; h < height; h++) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < cols; i++) {
                    String cell = h < cells[i].length ? cells[i][h] : "";
                    line.append(cell);
                    if (i < cols - 1) {
                        line.append(" ".repeat(width[i] - cell.length() + 2));
                    }
                }
                out.println(line.toString().stripTrailing());
            }
        }
    }

    /** {@code text} in lines of at most {@code width} characters, broken at spaces where it can be. */
    static String wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.strip().split(" +")) {
            while (word.length() > width) { // a word longer than the column is cut
                if (!line.isEmpty()) {
                    lines.add(line.toString());
                    line.setLength(0);
                }
                lines.add(word.substring(0, width));
                word = word.substring(width);
            }
            if (!line.isEmpty() && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (!word.isEmpty()) {
                line.append(line.isEmpty() ? "" : " ").append(word);
            }
        }
        if (!line.isEmpty() || lines.isEmpty()) {
            lines.add(line.toString());
        }
        return String.join("\n", lines);
    }
}
