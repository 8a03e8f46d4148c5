package io.keyrelay.dkim;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * What keyrelay learns from a message as its DATA streams past, in one pass and in bounded memory: the header
 * block (kept, up to its bound, for sender policy and for the signed header fields) and the DKIM body hash
 * (relaxed canonicalisation, SHA-256, computed on the fly and never buffered).
 *
 * <p>Write the message's content to it — dot-unstuffed, as the SMTP DATA command delivers it, without the final
 * {@code .CRLF} — then call {@link #finish()}. Every byte written is passed on unchanged to the optional
 * {@code next} stream (the queue's body writer, or a {@link Spool}), so teeing the message costs no second read.
 * {@code close()} does not close {@code next}.
 */
public final class MessageScan extends OutputStream {
    private final OutputStream next;
    private final HeaderBlock.HeaderScanner header;
    private RelaxedBody body; // made when the header block ends, only if the body's hash is wanted
    private final java.util.function.Predicate<HeaderBlock> hashBody;
    private boolean skipBody;
    private boolean inBody;
    private long size;
    private HeaderBlock headers;
    private byte[] bodyHash;

    /** A scan that keeps at most {@code maxHeaderBytes} of the header block and passes every byte to {@code next}. */
    public MessageScan(int maxHeaderBytes, OutputStream next) {
        this(maxHeaderBytes, next, h -> true);
    }

    /**
     * A scan that asks {@code hashBody}, once the header block has ended, whether the body's hash will be wanted: a
     * message no key will sign (most under the sending-domain policy alone) is not canonicalised and hashed for
     * nothing. Without an answer yes, {@link #bodyHash()} throws.
     */
    public MessageScan(int maxHeaderBytes, OutputStream next, java.util.function.Predicate<HeaderBlock> hashBody) {
        this.next = next;
        this.header = new HeaderBlock.HeaderScanner(maxHeaderBytes);
        this.hashBody = hashBody;
    }

    /** A scan with the default header bound and nothing behind it. */
    public MessageScan() {
        this(HeaderBlock.DEFAULT_MAX_BYTES, null);
    }

    @Override
    public void write(int b) throws IOException {
        if (next != null) {
            next.write(b);
        }
        accept(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (next != null) {
            next.write(b, off, len);
        }
        accept(b, off, len);
    }

    private void accept(byte[] b, int off, int len) {
        if (bodyHash != null) {
            throw new IllegalStateException("the message is finished");
        }
        size += len;
        int i = off;
        int end = off + len;
        if (!inBody) {
            i += header.accept(b, off, len);
            if (header.done()) {
                inBody = true;
                decide(headers());
            }
        }
        if (i < end && !skipBody) {
            body.write(b, i, end - i);
        }
    }

    /** Asks whether the body's hash is wanted, at the end of the header block; makes the hasher if it is. */
    private void decide(HeaderBlock h) {
        skipBody = !hashBody.test(h);
        if (!skipBody) {
            body = new RelaxedBody(sha256());
        }
    }

    /** Ends the message: the header block and the body hash are known from here on. */
    public void finish() throws IOException {
        if (bodyHash == null) {
            if (next != null) {
                next.flush();
            }
            headers = header.block();
            if (!inBody) { // no body at all: the header block ends with the message
                decide(headers);
            }
            bodyHash = skipBody ? new byte[0] : body.finish();
        }
    }

    @Override
    public void flush() throws IOException {
        if (next != null) {
            next.flush();
        }
    }

    /** Whether the header block has ended, so {@link #headers()} could be read before the body is done. */
    public boolean headersComplete() {
        return inBody || bodyHash != null;
    }

    /** The header block; after {@link #finish()}, or as soon as {@link #headersComplete()}. */
    public HeaderBlock headers() {
        if (headers == null) {
            if (!headersComplete()) {
                throw new IllegalStateException("the header block has not ended yet");
            }
            headers = header.block();
        }
        return headers;
    }

    /** The SHA-256 of the relaxed-canonical body, the {@code bh=} tag's value; after {@link #finish()}. */
    public byte[] bodyHash() {
        if (bodyHash == null) {
            throw new IllegalStateException("finish() the message first");
        }
        if (skipBody) {
            throw new IllegalStateException("the body was not hashed: the scan was told no signature would be made");
        }
        return bodyHash.clone();
    }

    /** Bytes written (the message's size as the client sent it, after dot-unstuffing). */
    public long size() {
        return size;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
