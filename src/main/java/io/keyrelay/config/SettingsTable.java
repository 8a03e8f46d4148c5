package io.keyrelay.config;

import java.util.StringJoiner;

/**
 * The Markdown table of every {@link Setting}, as docs/configuration.md shows it between its "settings table"
 * markers. Generated, so the reference cannot drift from the code: {@code keyrelay config docs} prints it, and
 * a test fails with the regenerated text when the page differs.
 */
public final class SettingsTable {
    /** The line before the generated table in docs/configuration.md. */
    public static final String BEGIN = "<!-- settings table: generated from config/Setting.java by `keyrelay config docs`;"
            + " edit Setting.java, not this table -->";
    /** The line after it. */
    public static final String END = "<!-- end of settings table -->";

    private SettingsTable() {}

    /** The table, header included, one line per setting, ending with a newline. */
    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| key | environment | default | meaning |\n");
        sb.append("| --- | --- | --- | --- |\n");
        for (Setting s : Setting.values()) {
            StringJoiner row = new StringJoiner(" | ", "| ", " |\n");
            row.add("`" + s.key() + "`");
            row.add("`" + s.envName() + "`");
            row.add(s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`");
            row.add(cell(s.description()) + (s.secret() ? " **Secret**: masked in `config print`." : ""));
            sb.append(row);
        }
        return sb.toString();
    }

    /** Replaces the table between the markers in {@code page}; the page must hold both markers. */
    public static String replaceIn(String page) {
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("the page has no settings table markers");
        }
        int from = begin + BEGIN.length();
        return page.substring(0, from) + "\n" + markdown() + page.substring(end);
    }

    /** A description as a table cell: a literal | would end the cell. */
    private static String cell(String text) {
        return text.replace("|", "\\|");
    }
}
