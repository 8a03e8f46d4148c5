package io.keyrelay.smtp;

import io.keyrelay.net.Streams;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Stands between a session's socket and SubEthaSMTP's command reader, so that a malformed command line is answered
 * and the session goes on. The library's reader ends the session (with a 501) on a line of 998 characters or
 * more, on a CR or LF that is not part of a CRLF, and on bytes that are not UTF-8 — its {@code Session} is final, so
 * the line is checked here, before the library sees it, and a bad one is replaced by a marker line that keyrelay's
 * own commands answer ({@link Commands.MalformedLine}).
 *
 * <p>While checking commands it hands out at most one line per read, so the library never holds more than the line
 * it is reading: when DATA begins ({@link #data()}) the message's bytes are all still below, and pass unchecked and
 * unchanged up to and including the end-of-data line — found by the same rule as {@link DataStream}'s, the first
 * {@code <CRLF>.<CRLF>} counting the start of the data as after a CRLF — and no further: what a pipelining client
 * sent after it in the same packet is checked as commands again. Also unchecked: a PROXY protocol header (binary
 * in v2), from {@link #pass()} until {@link #commands()}.
 *
 * <p>The guard also keeps the session's {@link SessionBudget} informed of each command line it waits for (its
 * deadline), and when the budget says the session is over — a deadline passed, too many errors — it hands the
 * library that budget's closing marker instead of a line, at once and for every line after.
 */
final class LineGuard extends InputStream {
    /** Octets a command line may have before its CRLF (the library refuses 998 characters). */
    static final int MAX_LINE = 997;
    static final String TOO_LONG = "\0LNG";
    static final String BARE_CR_OR_LF = "\0BCR";
    static final String NOT_UTF8 = "\0UTF";
    static final String NON_ASCII_VERB = "\0VRB";
    private static final int BUFFER = 1024; // a whole line (MAX_LINE + CRLF) fits; kept small: one per session

    private final InputStream in;
    private final SessionBudget budget;
    private static final byte[] END_OF_DATA = {'\r', '\n', '.', '\r', '\n'};

    private byte[] buf = new byte[BUFFER];
    /** Unread bytes are buf[start, end). */
    private int start;
    private int end;
    /** Bytes of the current, checked line still to be handed out from buf[start]. */
    private int lineLeft;
    /** A marker line being handed out instead of a bad line. */
    private byte[] marker;
    private int markerPos;
    /** Dropping the rest of an over-long line, up to its CRLF. */
    private boolean discarding;
    private volatile boolean pass;
    /** In DATA: bytes pass until the end-of-data line, then commands are checked again. */
    private boolean data;
    /** Bytes of {@link #END_OF_DATA} matched so far (the data starts as if after a CRLF). */
    private int matched;

    /** A guard with no deadlines and no error limit (for tests of the line rules alone). */
    LineGuard(InputStream in, boolean pass) {
        this(in, SessionBudget.unlimited(), pass);
    }

    LineGuard(InputStream in, SessionBudget budget, boolean pass) {
        this.in = in;
        this.budget = budget;
        this.pass = pass;
    }

    /** From now on bytes pass unchecked (DATA, a PROXY header). */
    void pass() {
        pass = true;
    }

    /** The message follows: it passes unchecked up to and including its end-of-data line. */
    void data() {
        data = true;
        matched = 2;
        pass = true;
    }

    /** From now on command lines are checked. */
    void commands() {
        data = false;
        pass = false;
    }

    @Override
    public int read() throws IOException {
        return Streams.readByte(this, new byte[1]); // not on a hot path: the library's reader reads in bulk
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (marker != null) {
            return fromMarker(b, off, len);
        }
        if (pass) {
            int n;
            boolean buffered = end > start;
            if (buffered) {
                n = Math.min(len, end - start);
                System.arraycopy(buf, start, b, off, n);
                start += n;
            } else {
                n = in.read(b, off, len);
            }
            lineLeft = 0;
            discarding = false;
            return data && n > 0 ? upToEndOfData(b, off, n, buffered) : n;
        }
        if (lineLeft == 0) {
            String closing = budget.closingMarker();
            if (closing != null) {
                return startMarker(closing, b, off, len);
            }
        }
        try {
            while (lineLeft == 0) {
                int lf = indexOfCrlf(start); // a line ends only at CRLF: a bare CR or LF ends nothing
                if (discarding) {
                    if (lf < 0) {
                        keepTrailingCr();
                        if (!fill()) {
                            return -1;
                        }
                        continue;
                    }
                    start = lf + 1;
                    discarding = false;
                    budget.lineRead(); // the over-long line is over; the next one has a deadline of its own
                    continue;
                }
                if (lf < 0) {
                    if (end - start >= MAX_LINE + 2) { // no CRLF even after MAX_LINE octets and a CR: too long
                        keepTrailingCr();
                        discarding = true;
                        return startMarker(TOO_LONG, b, off, len);
                    }
                    compact();
                    if (!fill()) {
                        if (end > start) { // the client is gone mid-line; the library drops such a line
                            lineLeft = end - start;
                            break;
                        }
                        return -1;
                    }
                    continue;
                }
                budget.lineRead();
                String problem = check(start, lf);
                if (problem != null) {
                    start = lf + 1;
                    return startMarker(problem, b, off, len);
                }
                lineLeft = lf + 1 - start;
            }
        } catch (IOException e) {
            String closing = budget.closingMarker(); // a deadline ended the read: say which, then close
            if (closing == null) {
                throw e; // the idle timeout (the library answers it) or a connection gone
            }
            start = 0;
            end = 0;
            discarding = false;
            return startMarker(closing, b, off, len);
        }
        int n = Math.min(len, lineLeft);
        System.arraycopy(buf, start, b, off, n);
        start += n;
        lineLeft -= n;
        return n;
    }

    /**
     * Looks for the end-of-data line in the n bytes just handed out at b[off]; if it is there, takes back what
     * follows it (into the buffer) and returns to checking commands. Returns the bytes that stay handed out.
     */
    private int upToEndOfData(byte[] b, int off, int n, boolean fromBuffer) {
        for (int i = 0; i < n; i++) {
            byte c = b[off + i];
            matched = c == END_OF_DATA[matched] ? matched + 1 : c == '\r' ? 1 : 0;
            if (matched == END_OF_DATA.length) {
                int used = i + 1;
                int rest = n - used;
                if (fromBuffer) {
                    start -= rest; // still there
                } else if (rest > 0) { // the buffer was empty: the rest goes into it
                    if (rest > buf.length) {
                        buf = new byte[rest];
                    }
                    System.arraycopy(b, off + used, buf, 0, rest);
                    start = 0;
                    end = rest;
                }
                commands();
                return used;
            }
        }
        return n;
    }

    /** What is wrong with the line in buf[from, lf) (its CRLF at {@code lf - 1}), or null. */
    private String check(int from, int lf) {
        int contentEnd = lf - 1; // the CR
        if (contentEnd - from > MAX_LINE) {
            return TOO_LONG;
        }
        for (int i = from; i < contentEnd; i++) {
            if (buf[i] == '\r' || buf[i] == '\n') {
                return BARE_CR_OR_LF;
            }
        }
        if (!validUtf8(from, contentEnd)) {
            return NOT_UTF8;
        }
        // The verb must be ASCII: the library looks verbs up upper-cased by Locale.ENGLISH, which would make
        // "MAıL" (dotless i) a MAIL and "ſTARTTLS" (long s) a STARTTLS.
        for (int i = from; i < contentEnd && buf[i] != ' '; i++) {
            if (buf[i] < 0) {
                return NON_ASCII_VERB;
            }
        }
        return null;
    }

    /** Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
    private boolean validUtf8(int from, int to) {
        int i = from;
        while (i < to) {
            int b0 = buf[i] & 0xff;
            if (b0 < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            int cp;
            if (b0 >= 0xc2 && b0 <= 0xdf) {
                n = 1;
                min = 0x80;
                cp = b0 & 0x1f;
            } else if (b0 >= 0xe0 && b0 <= 0xef) {
                n = 2;
                min = 0x800;
                cp = b0 & 0x0f;
            } else if (b0 >= 0xf0 && b0 <= 0xf4) {
                n = 3;
                min = 0x10000;
                cp = b0 & 0x07;
            } else {
                return false;
            }
            if (i + n >= to) { // the sequence runs past the line
                return false;
            }
            for (int k = 1; k <= n; k++) {
                int c = buf[i + k] & 0xff;
                if ((c & 0xc0) != 0x80) {
                    return false;
                }
                cp = (cp << 6) | (c & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return false;
            }
            i += n + 1;
        }
        return true;
    }

    /** The index of the LF of the first CRLF in buf[from, end), or -1. */
    private int indexOfCrlf(int from) {
        for (int i = from + 1; i < end; i++) {
            if (buf[i] == '\n' && buf[i - 1] == '\r') {
                return i;
            }
        }
        return -1;
    }

    /** Empties the buffer, but for a CR at its end that a LF still to come may pair with. */
    private void keepTrailingCr() {
        boolean cr = end > start && buf[end - 1] == '\r';
        start = 0;
        end = 0;
        if (cr) {
            buf[end++] = '\r';
        }
    }

    private void compact() {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
    }

    private boolean fill() throws IOException {
        budget.lineWaiting(); // from the first wait for a line to its CRLF, however it trickles in
        int n;
        do {
            n = in.read(buf, end, buf.length - end);
        } while (n == 0);
        if (n < 0) {
            return false;
        }
        end += n;
        return true;
    }

    private int startMarker(String kind, byte[] b, int off, int len) {
        marker = (kind + "\r\n").getBytes(StandardCharsets.US_ASCII);
        markerPos = 0;
        return fromMarker(b, off, len);
    }

    private int fromMarker(byte[] b, int off, int len) {
        int n = Math.min(len, marker.length - markerPos);
        System.arraycopy(marker, markerPos, b, off, n);
        markerPos += n;
        if (markerPos == marker.length) {
            marker = null;
        }
        return n;
    }

    /** Bytes readable without blocking: a marker's, the buffer's, and the socket's. */
    @Override
    public int available() throws IOException {
        return (marker == null ? 0 : marker.length - markerPos) + (end - start) + in.available();
    }

    /**
     * Drops {@code n} bytes as they are, unchecked (STARTTLS discarding what a client sent after it): a pending
     * marker first, then the buffer, then the socket's.
     */
    @Override
    public long skip(long n) throws IOException {
        long left = n;
        if (marker != null && left > 0) {
            int m = (int) Math.min(left, marker.length - markerPos);
            markerPos += m;
            left -= m;
            if (markerPos == marker.length) {
                marker = null;
            }
        }
        if (left > 0 && end > start) {
            int m = (int) Math.min(left, end - start);
            start += m;
            lineLeft = Math.max(0, lineLeft - m);
            left -= m;
        }
        if (left > 0) {
            left -= in.skip(left);
        }
        return n - left;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
