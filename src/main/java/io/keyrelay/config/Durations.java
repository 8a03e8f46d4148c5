package io.keyrelay.config;

import java.time.Duration;
import io.keyrelay.text.Ascii;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and formats durations as written in the config: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}, or ISO-8601 {@code PT5M}. */
public final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {}

    /** Returns the duration, or throws {@link IllegalArgumentException} with a message for humans. */
    public static Duration parse(String text) {
        String s = Ascii.toLowerCase(text.strip());
        Matcher m = SIMPLE.matcher(s);
        if (m.matches()) {
            long n;
            try {
                n = Long.parseLong(m.group(1)); // \d is ASCII only (no UNICODE_CHARACTER_CLASS)
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is too long a duration");
            }
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (s.startsWith("p")) {
            try {
                return Duration.parse(Ascii.toUpperCase(s));
            } catch (DateTimeParseException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("is not a duration (examples: 500ms, 30s, 5m, 2h, 1d)");
    }

    /** Formats in the largest unit that divides the duration exactly: {@code 5m}, {@code 90s}, {@code 250ms}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms != 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms != 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms != 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
