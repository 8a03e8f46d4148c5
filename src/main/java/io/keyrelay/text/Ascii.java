package io.keyrelay.text;

/**
 * Case folding, trimming and number parsing for protocol tokens — SMTP verbs and keywords, AUTH usernames, HTTP
 * schemes and headers, grant and unit names, configuration values — which are ASCII by definition.
 *
 * <p>The JDK's own methods are Unicode-aware where a protocol must not be: {@link String#equalsIgnoreCase} and
 * {@code toUpperCase(Locale.ROOT)} fold U+0131 (dotless i) to {@code I}, U+017F (long s) to {@code S} and U+212A
 * (Kelvin sign) to {@code k}, so {@code ſMTP_Injection} would pass for {@code SMTP_Injection}; {@link Long#parseLong}
 * reads every Unicode decimal digit and a leading {@code +}, so {@code SIZE=٣} would read as 3; {@link String#strip}
 * removes Unicode spaces. Here only {@code A-Z}/{@code a-z} fold, only {@code 0-9} are digits, and only SP and HTAB
 * are trimmed; anything else compares, and fails to parse, as what it is.
 */
public final class Ascii {
    private Ascii() {}

    /** True if both are equal when ASCII letters are folded to one case (and nothing else is). */
    public static boolean equalsIgnoreCase(String a, String b) {
        return a.length() == b.length() && regionMatchesIgnoreCase(a, 0, b);
    }

    /** True if {@code s} has {@code prefix} at {@code offset}, ASCII letters compared without case. */
    public static boolean regionMatchesIgnoreCase(String s, int offset, String prefix) {
        if (offset < 0 || s.length() - offset < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (lower(s.charAt(offset + i)) != lower(prefix.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    public static boolean startsWithIgnoreCase(String s, String prefix) {
        return regionMatchesIgnoreCase(s, 0, prefix);
    }

    /** The first index of {@code needle} in {@code s}, ASCII letters compared without case; -1 if absent. */
    public static int indexOfIgnoreCase(String s, String needle) {
        for (int i = 0; i + needle.length() <= s.length(); i++) {
            if (regionMatchesIgnoreCase(s, i, needle)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code s} with {@code a-z} in upper case; every other character unchanged. */
    public static String toUpperCase(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'a' && c <= 'z') {
                char[] out = s.toCharArray();
                for (int j = i; j < out.length; j++) {
                    if (out[j] >= 'a' && out[j] <= 'z') {
                        out[j] = (char) (out[j] - ('a' - 'A'));
                    }
                }
                return new String(out);
            }
        }
        return s;
    }

    /** {@code s} with {@code A-Z} in lower case; every other character unchanged. */
    public static String toLowerCase(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] out = s.toCharArray();
                for (int j = i; j < out.length; j++) {
                    out[j] = lower(out[j]);
                }
                return new String(out);
            }
        }
        return s;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    /** {@code s} without leading and trailing SP and HTAB (RFC 5234 WSP), and nothing else. */
    public static String trim(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && isWsp(s.charAt(from))) {
            from++;
        }
        while (to > from && isWsp(s.charAt(to - 1))) {
            to--;
        }
        return from == 0 && to == s.length() ? s : s.substring(from, to);
    }

    private static boolean isWsp(char c) {
        return c == ' ' || c == '\t';
    }

    /** True if {@code s} is one or more of {@code 0-9} and nothing else (no sign, no other script's digits). */
    public static boolean isDigits(CharSequence s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The value of a run of {@code 0-9} with at most {@code maxDigits} digits (at most 18, so it fits a long);
     * -1 if {@code s} is anything else: empty, signed, other digits, or too long.
     */
    public static long parseDigits(CharSequence s, int maxDigits) {
        if (maxDigits < 1 || maxDigits > 18) {
            throw new IllegalArgumentException("maxDigits must be 1 to 18: " + maxDigits);
        }
        if (s.length() > maxDigits || !isDigits(s)) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }

    /**
     * A decimal number as written in configuration, key limits and forms: an optional {@code -} and then
     * {@code 0-9} only (no {@code +}, no other script's digits).
     *
     * @throws NumberFormatException naming the text when it is not such a number or does not fit a long
     */
    public static long parseLong(String s) {
        String digits = s.startsWith("-") ? s.substring(1) : s;
        if (!isDigits(digits) || digits.length() > 19) {
            throw new NumberFormatException("'" + s + "' is not a whole number (digits 0-9)");
        }
        return Long.parseLong(s); // the characters are checked: now only the range can fail
    }

    /** True if every character is below U+0080. */
    public static boolean isAscii(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                return false;
            }
        }
        return true;
    }
}
