package io.keyrelay.relay;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes message content for SMTP DATA (RFC 5321 section 4.5.2): a {@code .} at the start of a line is doubled,
 * and {@link #finish()} ends the data with {@code CRLF . CRLF}.
 *
 * <p>"Start of a line" deliberately includes the position after a <em>bare</em> CR or LF, not only after CRLF.
 * keyrelay itself only ends DATA at {@code <CRLF>.<CRLF>}, but a lenient downstream might end it at {@code <LF>.<LF>}
 * or {@code <LF>.<CRLF>}: doubling those dots means no content can ever end the message early there and smuggle a
 * second message behind it (the 2023 "SMTP smuggling" class). For well-formed CRLF content this is exactly
 * standard dot-stuffing, so the bytes arrive unchanged.
 */
final class DotStuffingOutputStream extends FilterOutputStream {
    private static final byte[] END = {'.', '\r', '\n'};
    private static final byte[] CRLF_END = {'\r', '\n', '.', '\r', '\n'};

    private int last = '\n'; // start of data counts as start of a line
    private int beforeLast = '\r';
    private long count;

    DotStuffingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        if (b == '.' && (last == '\n' || last == '\r')) {
            out.write('.');
        }
        out.write(b);
        beforeLast = last;
        last = b & 0xff;
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        int end = off + len;
        int prev = last;
        for (int i = off; i < end; i++) {
            byte c = b[i];
            if (c == '.' && (prev == '\n' || prev == '\r')) {
                out.write(b, start, i - start);
                out.write('.');
                start = i; // the original dot is written with the next run
            }
            prev = c & 0xff;
        }
        out.write(b, start, end - start);
        if (len >= 2) {
            beforeLast = b[end - 2] & 0xff;
            last = b[end - 1] & 0xff;
        } else if (len == 1) {
            beforeLast = last;
            last = b[off] & 0xff;
        }
        count += len;
    }

    /** Content bytes written (before stuffing). */
    long count() {
        return count;
    }

    /** Ends the data: a CRLF if the content did not end with one, then {@code .CRLF}. Does not flush. */
    void finish() throws IOException {
        if (count == 0 || (beforeLast == '\r' && last == '\n')) {
            out.write(END);
        } else {
            out.write(CRLF_END);
        }
    }
}
