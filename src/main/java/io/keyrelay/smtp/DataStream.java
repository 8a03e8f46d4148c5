package io.keyrelay.smtp;

import io.keyrelay.net.Streams;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The content of one SMTP DATA command, read straight from the session's buffered socket stream: it ends at
 * {@code <CRLF>.<CRLF>} (RFC 5321 section 4.1.1.4) and is dot-unstuffed (section 4.5.2) on the way.
 *
 * <p>Only {@code <CRLF>.<CRLF>} ends the data: {@code <LF>.<LF>}, {@code <CR>.<CR>} and the other lenient endings of
 * the SMTP-smuggling class stay inside the message. The CRLF before the final dot belongs to the content. A dot is
 * unstuffed only at the start of a line, i.e. after CRLF or at the very start of the data.
 *
 * <p>It reads in bulk (under a mark on the {@link BufferedInputStream}, rewound to just after the terminator so a
 * pipelined command that follows is left for the session) and unstuffs in place in the caller's buffer: the body
 * is copied once between the socket buffer and the relay's output. More than {@code limit} content bytes raise
 * {@link TooLargeException}; {@link #drain()} then reads on to the terminator so the session can answer 552 and
 * carry on.
 */
final class DataStream extends InputStream {
    private static final int LINE_START = 0;
    private static final int IN_LINE = 1;
    private static final int CR = 2;
    private static final int DOT = 3;
    private static final int DOT_CR = 4;
    private static final int CHUNK = 8192;

    private final BufferedInputStream in;
    private final long limit;
    private int state = LINE_START;
    private boolean ended;
    private long count;
    private final byte[] one = new byte[1];

    /** More content than the configured maximum; the stream stays positioned for {@link #drain()}. */
    static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(long limit) {
            super("message larger than " + limit + " bytes", null);
        }
    }

    DataStream(InputStream sessionInput, long limit) {
        this.in = sessionInput instanceof BufferedInputStream b ? b : new BufferedInputStream(sessionInput, CHUNK);
        this.limit = limit;
    }

    /** Content bytes produced so far (after unstuffing). */
    long count() {
        return count;
    }

    boolean ended() {
        return ended;
    }

    @Override
    public int read() throws IOException {
        return Streams.readByte(this, one);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (true) {
            if (pushedBack >= 0) {
                b[off] = (byte) pushedBack; // already counted when it was produced
                pushedBack = -1;
                return 1;
            }
            if (ended) {
                return -1;
            }
            if (state == DOT_CR && len < 2) {
                // A held ".\r" may turn into two output bytes ("\r" and the next): give it room.
                int n = counted(fill(pair, 0, 2));
                if (n == 0) {
                    continue;
                }
                b[off] = pair[0];
                if (n == 2) {
                    pushedBack = pair[1] & 0xff;
                }
                return 1;
            }
            int produced = counted(fill(b, off, len));
            if (produced > 0) {
                return produced;
            }
        }
    }

    private int counted(int produced) throws TooLargeException {
        count += produced;
        if (count > limit) {
            throw new TooLargeException(limit);
        }
        return produced;
    }

    private final byte[] pair = new byte[2];
    private int pushedBack = -1;

    /** Reads one chunk from the socket buffer into b and unstuffs it in place; returns bytes produced. */
    private int fill(byte[] b, int off, int len) throws IOException {
        int w = off;
        // Starting in DOT_CR, the first input byte may produce two output bytes: read one byte to the right.
        int readAt = state == DOT_CR ? off + 1 : off;
        int want = Math.min(len - (readAt - off), CHUNK);
        in.mark(CHUNK);
        int n = in.read(b, readAt, want);
        if (n < 0) {
            throw new EOFException("the client closed the connection before the end of DATA");
        }
        int end = readAt + n;
        for (int i = readAt; i < end; i++) {
            byte c = b[i];
            switch (state) {
                case LINE_START -> {
                    if (c == '.') {
                        state = DOT; // either the terminator or a stuffed dot: decided by what follows
                    } else {
                        b[w++] = c;
                        state = c == '\r' ? CR : IN_LINE;
                    }
                }
                case IN_LINE -> {
                    b[w++] = c;
                    if (c == '\r') {
                        state = CR;
                    }
                }
                case CR -> {
                    b[w++] = c;
                    state = c == '\n' ? LINE_START : c == '\r' ? CR : IN_LINE;
                }
                case DOT -> {
                    if (c == '\r') {
                        state = DOT_CR;
                    } else {
                        b[w++] = c; // the leading dot was stuffing: dropped
                        state = IN_LINE;
                    }
                }
                default -> { // DOT_CR
                    if (c == '\n') {
                        ended = true;
                        int consumed = i - readAt + 1;
                        in.reset();
                        in.skipNBytes(consumed);
                        return w - off;
                    }
                    // ".\r" then something else: the dot was stuffing, the CR is content.
                    b[w++] = '\r';
                    b[w++] = c;
                    state = c == '\r' ? CR : IN_LINE;
                }
            }
        }
        return w - off;
    }

    /** Reads and discards the rest of the data, up to and including the terminator. */
    void drain() throws IOException {
        byte[] skip = new byte[CHUNK];
        if (pushedBack >= 0) {
            pushedBack = -1;
        }
        while (!ended) {
            int n = fill(skip, 0, skip.length);
            count += n;
        }
    }
}
