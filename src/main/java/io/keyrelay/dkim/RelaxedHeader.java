package io.keyrelay.dkim;

import java.io.ByteArrayOutputStream;

/**
 * DKIM's "relaxed" header canonicalisation (RFC 6376 section 3.4.2) of one field: the name in lower case, the
 * value unfolded, WSP runs as one SP, no WSP at either end of the value or around the colon, then CRLF.
 */
final class RelaxedHeader {
    private RelaxedHeader() {}

    /** Appends the canonical form of {@code field} to {@code out}, with its CRLF. */
    static void append(HeaderField field, ByteArrayOutputStream out) {
        appendWithoutCrlf(field, out);
        out.write('\r');
        out.write('\n');
    }

    /**
     * Appends the canonical form without the final CRLF: the form in which the {@code DKIM-Signature} field itself
     * enters its signature (RFC 6376 section 3.7).
     */
    static void appendWithoutCrlf(HeaderField field, ByteArrayOutputStream out) {
        byte[] raw = field.raw();
        int colon = 0;
        while (colon < raw.length && raw[colon] != ':') {
            colon++;
        }
        for (int i = 0; i < field.name().length(); i++) {
            char c = field.name().charAt(i);
            out.write(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        out.write(':');
        boolean started = false;
        boolean wsp = false;
        for (int i = colon + 1; i < raw.length; i++) {
            byte c = raw[i];
            if (c == '\n' || c == '\r' && i + 1 < raw.length && raw[i + 1] == '\n') {
                continue; // unfolding removes line ends (CRLF, or a bare LF); a lone CR is an ordinary character
            }
            if (c == ' ' || c == '\t') {
                wsp = true;
                continue;
            }
            if (wsp && started) {
                out.write(' ');
            }
            wsp = false;
            started = true;
            out.write(c);
        }
    }
}
