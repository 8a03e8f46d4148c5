package io.keyrelay.dkim;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A message's header block (RFC 5322 section 2.2): its fields in order, each with its original bytes. It ends at
 * the first empty line, which belongs to neither the headers nor the body; lines may end in CRLF or a bare LF (a
 * client's bare LF is kept as it came, and read as a line end, as receiving MTAs and DKIM verifiers read it).
 *
 * <p>The block is bounded: a message whose header block is larger than the bound is {@link #truncated()} —
 * its addresses cannot be trusted to be all there, and it is not signed.
 */
public final class HeaderBlock {
    /** The default bound on a header block: far above any real message's, small enough to hold per session. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;

    private final List<HeaderField> fields;
    private final boolean truncated;

    private HeaderBlock(List<HeaderField> fields, boolean truncated) {
        this.fields = List.copyOf(fields);
        this.truncated = truncated;
    }

    /** The fields of {@code header} (the block's bytes, without the empty line that ends it). */
    static HeaderBlock parse(byte[] header, int length, boolean truncated) {
        List<HeaderField> fields = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < length) {
            int lineEnd = i;
            while (lineEnd < length && header[lineEnd] != '\n') {
                lineEnd++;
            }
            int next = Math.min(lineEnd + 1, length);
            boolean continues = next < length && (header[next] == ' ' || header[next] == '\t');
            if (!continues) {
                byte[] raw = new byte[next - start];
                System.arraycopy(header, start, raw, 0, raw.length);
                fields.add(HeaderField.of(raw));
                start = next;
            }
            i = next;
        }
        return new HeaderBlock(fields, truncated);
    }

    /**
     * Reads the header block from the start of a message, stopping just after the empty line that ends it (or at
     * the end of the stream: a message of headers alone); the body is left unread in {@code in}. At most
     * {@code maxBytes} are kept; past that the rest of the block is read and dropped, and the result is
     * {@link #truncated()}.
     */
    public static HeaderBlock read(InputStream in, int maxBytes) throws IOException {
        HeaderScanner scanner = new HeaderScanner(maxBytes);
        int c;
        while (!scanner.done() && (c = in.read()) >= 0) {
            scanner.accept((byte) c);
        }
        return scanner.block();
    }

    /** The fields, in the order the client sent them. */
    public List<HeaderField> fields() {
        return fields;
    }

    /** The fields named {@code name} (any case), top to bottom. */
    public List<HeaderField> all(String name) {
        return fields.stream().filter(f -> f.is(name)).toList();
    }

    /** Whether the block was larger than its bound, so that some of its fields are missing. */
    public boolean truncated() {
        return truncated;
    }

    /**
     * Collects a header block as the message streams past, and says when it has ended. Used by {@link #read}, by
     * {@link Head} and by {@link MessageScan}, which must not read ahead of the bytes it is given. A plain array,
     * not a {@code ByteArrayOutputStream}: that one's synchronized {@code write(int)} per byte was a measurable
     * part of a message's cost under the sending-domain policy.
     */
    static final class HeaderScanner {
        private final int maxBytes;
        private byte[] bytes = new byte[2048];
        private int length;
        private boolean truncated;
        private boolean done;
        private int lineLength; // bytes in the current line, not counting a CR

        HeaderScanner(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        /** Takes one byte; returns true when it was the end of the empty line that closes the block. */
        boolean accept(byte c) {
            one[0] = c;
            return accept(one, 0, 1) == 1 && done;
        }

        private final byte[] one = new byte[1];

        /**
         * Takes bytes from {@code b} until the block ends; returns how many it took: all {@code len} of them, or
         * fewer when the block ended inside (the rest is the body's).
         */
        int accept(byte[] b, int off, int len) {
            if (done) {
                return 0;
            }
            int end = off + len;
            int i = off;
            int line = lineLength;
            while (i < end) {
                byte c = b[i++];
                if (c == '\n') {
                    if (line == 0) {
                        done = true; // the empty line: CRLF, or a bare LF, at the start of a line
                        break;
                    }
                    line = 0;
                } else if (c != '\r') {
                    line++;
                }
                if (length < maxBytes) {
                    if (length == bytes.length) {
                        bytes = java.util.Arrays.copyOf(bytes, (int) Math.min((long) maxBytes, 2L * length));
                    }
                    bytes[length++] = c;
                } else {
                    truncated = true;
                }
            }
            lineLength = line;
            return i - off;
        }

        boolean done() {
            return done;
        }

        HeaderBlock block() {
            int n = length;
            if (done && n > 0 && bytes[n - 1] == '\r') {
                n--; // the empty line's CR
            }
            return parse(bytes, n, truncated);
        }
    }

    /**
     * The header block read from the front of a stream, with every byte that was read to find it (the block, the
     * empty line and the start of the body that came in the same reads): what a relay that judges the headers
     * before it sends anything passes on first, followed by the rest of the stream.
     *
     * @param bytes the bytes read, {@code bytes[0..length)}
     * @param block the header block; null when it had not ended within the bound (read no further: the caller
     *     falls back to holding the whole message)
     * @param ended whether the stream ended (a message of headers alone)
     */
    public record Head(byte[] bytes, int length, HeaderBlock block, boolean ended) {
        private static final int READ = 8192;

        /** Reads from {@code in} until its header block ends, or {@code maxBytes} are read, or the stream ends. */
        public static Head read(InputStream in, int maxBytes) throws IOException {
            HeaderScanner scanner = new HeaderScanner(maxBytes);
            byte[] buf = new byte[READ];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    if (n >= maxBytes) {
                        return new Head(buf, n, null, false);
                    }
                    buf = java.util.Arrays.copyOf(buf, 2 * n);
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    return new Head(buf, n, scanner.block(), true);
                }
                scanner.accept(buf, n, r);
                n += r;
                if (scanner.done()) {
                    return new Head(buf, n, scanner.block(), false);
                }
            }
        }

        /** The bytes read, as a stream. */
        public InputStream stream() {
            return new java.io.ByteArrayInputStream(bytes, 0, length);
        }
    }
}
