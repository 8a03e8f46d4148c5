package io.keyrelay.dkim;

import java.io.OutputStream;
import java.security.MessageDigest;

/**
 * DKIM's "relaxed" body canonicalisation (RFC 6376 section 3.4.4), computed as the body streams past and fed
 * straight into the body hash: memory stays at one small buffer whatever the body's size.
 *
 * <p>Runs of WSP become one SP, WSP at the end of a line goes, empty lines at the end of the body go, and a
 * non-empty body ends with exactly one CRLF (an empty body stays empty). A bare LF ends a line as CRLF does —
 * it reaches the recipient's verifier as a line end (receiving MTAs and dkimpy read it so); a CR that is not
 * followed by LF is an ordinary character. Line ends are held back until non-empty content follows, which is how
 * trailing empty lines disappear without buffering them.
 */
final class RelaxedBody extends OutputStream {
    private static final int BUFFER = 8192;

    private final MessageDigest digest;
    private final byte[] out = new byte[BUFFER];
    private int n;
    private boolean cr;        // a CR, not yet known to be the start of CRLF
    private boolean wsp;       // WSP seen since the last content in this line
    private long lineEnds;     // line ends not yet emitted (emitted only once content follows)
    private boolean content;   // anything emitted at all
    private long length;       // canonical bytes hashed

    RelaxedBody(MessageDigest digest) {
        this.digest = digest;
    }

    @Override
    public void write(int b) {
        accept((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        for (int i = off, end = off + len; i < end; i++) {
            accept(b[i]);
        }
    }

    private void accept(byte c) {
        if (cr) {
            cr = false;
            if (c == '\n') {
                lineEnd();
                return;
            }
            content((byte) '\r');
        }
        switch (c) {
            case '\r' -> cr = true;
            case '\n' -> lineEnd();
            case ' ', '\t' -> wsp = true;
            default -> content(c);
        }
    }

    private void lineEnd() {
        wsp = false; // trailing WSP is dropped
        lineEnds++;
    }

    private void content(byte c) {
        for (; lineEnds > 0; lineEnds--) {
            emit((byte) '\r');
            emit((byte) '\n');
        }
        if (wsp) {
            emit((byte) ' ');
            wsp = false;
        }
        emit(c);
        content = true;
    }

    private void emit(byte c) {
        if (n == BUFFER) {
            flushBuffer();
        }
        out[n++] = c;
    }

    private void flushBuffer() {
        digest.update(out, 0, n);
        length += n;
        n = 0;
    }

    /** Ends the body and returns its hash; the stream takes nothing more. */
    byte[] finish() {
        if (cr) {
            cr = false;
            content((byte) '\r');
        }
        if (content) {
            emit((byte) '\r');
            emit((byte) '\n');
        }
        flushBuffer();
        return digest.digest();
    }

    /** Canonical bytes hashed so far (all of them after {@link #finish()}). */
    long length() {
        return length + n;
    }
}
