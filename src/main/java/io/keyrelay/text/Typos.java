package io.keyrelay.text;

import java.util.Collection;
import java.util.Optional;

/**
 * "Did you mean …?" for a misspelled name (a configuration key, a subcommand, a flag): the closest candidate by
 * edit distance, counting a swap of two neighbouring letters ({@code kyes}, {@code lsit}) as one edit.
 */
public final class Typos {
    private Typos() {}

    /** The candidate closest to {@code typed}, when it is within {@code maxEdits}; ties go to the first. */
    public static Optional<String> closest(String typed, Collection<String> candidates, int maxEdits) {
        String best = null;
        int bestDistance = maxEdits + 1;
        for (String c : candidates) {
            int d = distance(typed, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
