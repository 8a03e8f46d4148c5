package io.keyrelay.smtp;

import io.keyrelay.text.Ascii;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Parses the argument of MAIL FROM and RCPT TO: {@code FROM:<path> [params]} (RFC 5321 section 4.1.2, with RFC 6531
 * UTF-8 mailboxes). Deliberately lenient about spacing and the (ASCII) case of keywords, strict about what could harm the
 * downstream conversation: no control characters, no spaces in the path, at most 256 octets.
 */
record SmtpPath(String address, List<String> params) {
    /** Compiled once: String.split compiles its pattern on every call (a JFR hot spot per MAIL and RCPT). */
    private static final Pattern SPACES = Pattern.compile(" +");

    static final int MAX_PATH = 256;

    /** Parses {@code FROM:<a@b> SIZE=1} (keyword "FROM:" or "TO:"); returns null if malformed. */
    static SmtpPath parse(String argument, String keyword) {
        String a = Ascii.trim(argument);
        if (!Ascii.startsWithIgnoreCase(a, keyword)) {
            return null;
        }
        a = Ascii.trim(a.substring(keyword.length()));
        String path;
        String rest;
        if (a.startsWith("<")) {
            int close = a.indexOf('>');
            if (close < 0) {
                return null;
            }
            path = a.substring(1, close);
            rest = a.substring(close + 1);
            if (!rest.isEmpty() && rest.charAt(0) != ' ') {
                return null;
            }
        } else {
            // Not RFC-conformant, but common from old clients: an address without angle brackets.
            int sp = a.indexOf(' ');
            path = sp < 0 ? a : a.substring(0, sp);
            rest = sp < 0 ? "" : a.substring(sp);
            if (path.isEmpty()) {
                return null;
            }
        }
        // Drop an obsolete source route: <@a,@b:user@host>.
        if (path.startsWith("@")) {
            int colon = path.indexOf(':');
            if (colon < 0) {
                return null;
            }
            path = path.substring(colon + 1);
        }
        if (path.length() > MAX_PATH) {
            return null;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c == 0x7f || c == '<' || c == '>') {
                return null;
            }
        }
        String r = Ascii.trim(rest);
        if (r.isEmpty()) {
            return new SmtpPath(path, List.of()); // the common case: no parameters, nothing to split
        }
        List<String> params = new ArrayList<>();
        for (String p : SPACES.split(r)) {
            if (!p.isEmpty()) {
                params.add(p);
            }
        }
        return new SmtpPath(path, params);
    }

    boolean isNullPath() {
        return address.isEmpty();
    }

    /** True if the address has a local part and a domain (or is {@code postmaster}, RFC 5321 section 4.5.1). */
    boolean isMailbox() {
        int at = address.lastIndexOf('@');
        return (at > 0 && at < address.length() - 1) || Ascii.equalsIgnoreCase(address, "postmaster");
    }

    boolean isAscii() {
        for (int i = 0; i < address.length(); i++) {
            if (address.charAt(i) > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** The value of {@code NAME=value} among the params (case-insensitive name), or null. */
    static String value(String param, String name) {
        int eq = param.indexOf('=');
        if (eq < 0 || !Ascii.equalsIgnoreCase(param.substring(0, eq), name)) {
            return null;
        }
        return param.substring(eq + 1);
    }

    static String keyword(String param) {
        int eq = param.indexOf('=');
        return Ascii.toUpperCase(eq < 0 ? param : param.substring(0, eq));
    }
}
