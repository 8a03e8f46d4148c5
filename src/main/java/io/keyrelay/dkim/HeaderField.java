package io.keyrelay.dkim;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One header field exactly as the client sent it: every byte of its lines, folding and line ends included, so
 * that DKIM's canonicalisation and the relayed message both see the original.
 *
 * @param name the field name as written (without the colon and any whitespace before it), or {@code ""} for a
 *     line in the header block that has no colon (malformed; kept so nothing is lost, matched by no name)
 * @param raw the field's bytes, from the first byte of its name to its final line end (CRLF or bare LF) inclusive
 */
public record HeaderField(String name, byte[] raw) {

    /** Splits one field's raw bytes into name and value. */
    static HeaderField of(byte[] raw) {
        int colon = indexOf(raw, (byte) ':');
        if (colon < 0) {
            return new HeaderField("", raw);
        }
        int end = colon;
        while (end > 0 && (raw[end - 1] == ' ' || raw[end - 1] == '\t')) {
            end--; // RFC 5322 section 4.5: obsolete WSP before the colon
        }
        return new HeaderField(new String(raw, 0, end, StandardCharsets.ISO_8859_1), raw);
    }

    /** Whether this field's name is {@code other}, ignoring ASCII case (RFC 5322 section 1.2.2). */
    public boolean is(String other) {
        return name.equalsIgnoreCase(other);
    }

    /** The name in lower case, as DKIM's {@code h=} tag lists it. */
    public String lowerName() {
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * The value, unfolded (line ends removed, RFC 5322 section 2.2.3) and decoded as UTF-8 (RFC 6532; plain ASCII
     * is the same), with the whitespace after the colon kept.
     */
    public String value() {
        int colon = indexOf(raw, (byte) ':');
        byte[] v = new byte[raw.length];
        int n = 0;
        for (int i = colon + 1; i < raw.length; i++) {
            if (raw[i] != '\r' && raw[i] != '\n') {
                v[n++] = raw[i];
            }
        }
        return new String(v, 0, n, StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, byte c) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeaderField f && f.name.equals(name) && Arrays.equals(f.raw, raw);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return new String(raw, StandardCharsets.UTF_8).strip();
    }
}
