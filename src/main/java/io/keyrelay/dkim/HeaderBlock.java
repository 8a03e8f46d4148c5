package io.keyrelay.dkim;

import java.io.ByteArrayOutputStream;
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
     * Collects a header block one byte at a time as the message streams past, and says when it has ended. Used by
     * {@link #read} and by {@link MessageScan}, which must not read ahead of the bytes it is given.
     */
    static final class HeaderScanner {
        private final int maxBytes;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(2048);
        private boolean truncated;
        private boolean done;
        private int lineLength; // bytes in the current line, not counting a CR

        HeaderScanner(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        /** Takes one byte; returns true when it was the end of the empty line that closes the block. */
        boolean accept(byte c) {
            if (c == '\n') {
                if (lineLength == 0) {
                    done = true; // the empty line: CRLF, or a bare LF, at the start of a line
                    return true;
                }
                lineLength = 0;
            } else if (c != '\r') {
                lineLength++;
            }
            if (bytes.size() < maxBytes) {
                bytes.write(c);
            } else {
                truncated = true;
            }
            return false;
        }

        boolean done() {
            return done;
        }

        HeaderBlock block() {
            byte[] b = bytes.toByteArray();
            int length = b.length;
            if (done && length > 0 && b[length - 1] == '\r') {
                length--; // the empty line's CR
            }
            return parse(b, length, truncated);
        }
    }
}
