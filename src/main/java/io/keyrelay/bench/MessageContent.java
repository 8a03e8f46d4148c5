package io.keyrelay.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The message the load generator sends: a few headers and a body of 78-character lines, exactly {@code size}
 * bytes, already in DATA form (no line starts with a dot, so it needs no stuffing) and followed by the
 * {@code CRLF . CRLF} terminator.
 *
 * <p>Built once and shared read-only by every session. Small messages are one array written in one call; large
 * ones are written as a header array and then one repeated block, so a 50 MB message costs the generator no
 * 50 MB of heap.
 */
final class MessageContent {
    private static final int LINE = 80; // 78 characters + CRLF
    private static final int BLOCK_LINES = 819; // ~64 KiB per block
    private static final byte[] TERMINATOR = {'.', '\r', '\n'};

    private final byte[] head;
    private final byte[] block;
    private final long blocks;
    private final byte[] tail;
    private final long size;

    private MessageContent(byte[] head, byte[] block, long blocks, byte[] tail) {
        this.head = head;
        this.block = block;
        this.blocks = blocks;
        this.tail = tail;
        this.size = head.length + (long) block.length * blocks + tail.length;
    }

    /** A message of exactly {@code size} bytes (at least {@link BenchOptions#MIN_SIZE}). */
    static MessageContent of(long size, String from, String to) {
        byte[] head = ("From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: keyrelay bench\r\n"
                + "Message-ID: <bench@keyrelay.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        if (head.length + 3 > size) {
            throw new IllegalArgumentException("--size: " + size + " bytes is too small for the message headers");
        }
        long bodyBytes = size - head.length;
        byte[] block = lines(LINE * BLOCK_LINES);
        long blocks = bodyBytes / block.length;
        int rest = (int) (bodyBytes % block.length);
        if (rest == 1) {
            // one byte cannot be a line of its own: fold the last whole block into the tail
            blocks--;
            rest += block.length;
        }
        byte[] tail = lines(rest);
        if (blocks == 0) {
            byte[] all = Arrays.copyOf(head, head.length + tail.length);
            System.arraycopy(tail, 0, all, head.length, tail.length);
            return new MessageContent(all, new byte[0], 0, new byte[0]);
        }
        return new MessageContent(head, block, blocks, tail);
    }

    /**
     * {@code bytes} (0, or at least 2) of body: lines of 78 printable characters and CRLF; the last line is shorter,
     * or one character longer when a single byte is left over.
     */
    private static byte[] lines(int bytes) {
        byte[] out = new byte[bytes];
        int at = 0;
        while (at < bytes) {
            int left = bytes - at;
            int len = left == LINE + 1 || left < LINE ? left : LINE;
            for (int i = 0; i < len - 2; i++) {
                out[at + i] = (byte) ('a' + i % 26);
            }
            out[at + len - 2] = '\r';
            out[at + len - 1] = '\n';
            at += len;
        }
        return out;
    }

    /** Content bytes, without the terminator. */
    long size() {
        return size;
    }

    /** Writes the content and the terminator (does not flush). */
    void writeTo(OutputStream out) throws IOException {
        out.write(head);
        for (long i = 0; i < blocks; i++) {
            out.write(block);
        }
        out.write(tail);
        out.write(TERMINATOR);
    }
}
