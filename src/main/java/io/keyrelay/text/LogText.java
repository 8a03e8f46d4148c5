package io.keyrelay.text;

/**
 * Values from outside — a key's label, a client's sender address, a downstream's reply, a request's path or headers —
 * made safe for one log line. In the plain log format a line is {@code key=value} pairs separated by spaces: a value
 * with a {@code "}, a line break or a space in it could end its field early and forge the ones after it (or a
 * whole new line), and a bidirectional override could make the line read differently from what it says.
 *
 * <p>{@link #quote} wraps the value in double quotes and escapes, inside: {@code "} and {@code \} with a backslash,
 * CR, LF and TAB as {@code \r \n \t}, and every other control, format (Cf: bidi overrides and isolates, zero-width
 * characters), separator (U+2028, U+2029) or unpaired surrogate character as {@code \}{@code uXXXX}. Printable text,
 * including non-ASCII letters, is kept as it is. Cheap for the common case: a value with nothing to escape is
 * copied once.
 */
public final class LogText {
    private LogText() {}

    /** {@code value} as a quoted, escaped log field; {@code -} for null. */
    public static String quote(Object value) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (needsEscape(s, i, c)) {
                        b.append(String.format("\\u%04X", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /**
     * {@code value} with only its invisible characters escaped as {@code \}{@code uXXXX} (controls, format
     * characters such as bidi overrides, separators, unpaired surrogates): for showing text stored before such
     * characters were refused, on a page where quotes need no escaping.
     */
    public static String visible(String value) {
        StringBuilder b = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean escape = needsEscape(value, i, c);
            if (escape && b == null) {
                b = new StringBuilder(value.length() + 16).append(value, 0, i);
            }
            if (b != null) {
                b.append(escape ? String.format("\\u%04X", (int) c) : String.valueOf(c));
            }
        }
        return b == null ? value : b.toString();
    }

    private static boolean needsEscape(String s, int i, char c) {
        if (c >= 0x20 && c < 0x7f) {
            return false;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1)) || !printable(s.codePointAt(i));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)) || !printable(s.codePointAt(i - 1));
        }
        return !printable(c);
    }

    private static boolean printable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR, Character.UNASSIGNED -> false;
            default -> true;
        };
    }
}
