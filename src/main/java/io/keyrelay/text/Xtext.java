package io.keyrelay.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * RFC 3461 section 4 "xtext", the encoding of the DSN parameters {@code ENVID} and {@code ORCPT}: printable ASCII
 * from {@code !} to {@code ~} except {@code +} and {@code =} stands for itself, anything else is {@code +XX} (two
 * upper-case hex digits).
 */
public final class Xtext {
    private Xtext() {}

    /** True if {@code s} is well-formed xtext (and not empty). */
    public static boolean isValid(String s) {
        if (s == null || s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                if (i + 2 >= s.length() || !upperHex(s.charAt(i + 1)) || !upperHex(s.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (c < '!' || c > '~' || c == '=') {
                return false;
            }
        }
        return true;
    }

    /** The text {@code s} (valid xtext) stands for, its bytes read as UTF-8. */
    public static String decode(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                b.write(Integer.parseInt(s, i + 1, i + 3, 16));
                i += 2;
            } else {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * An {@code ORCPT} value ({@code addr-type ";" xtext}, as given on RCPT) as a report's
     * {@code Original-Recipient} field writes it (RFC 3464 section 2.3.1): {@code rfc822; user@example.com}.
     */
    public static String orcptForReport(String orcpt) {
        int semi = orcpt.indexOf(';');
        if (semi < 0) {
            return orcpt;
        }
        String value = orcpt.substring(semi + 1);
        return orcpt.substring(0, semi) + "; " + (isValid(value) ? decode(value) : value);
    }

    private static boolean upperHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }
}
