package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MessageScanTest {
    private static final String MESSAGE = "From: a@example.com\r\nSubject: hello\r\n  folded\r\n\r\n"
            + "line one  \r\n.dot line\r\n\r\nlast";

    private static MessageScan scan(byte[] b, int chunk, ByteArrayOutputStream next) throws IOException {
        MessageScan s = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, next);
        for (int i = 0; i < b.length; i += chunk) {
            int n = Math.min(chunk, b.length - i);
            if (n == 1) {
                s.write(b[i]);
            } else {
                s.write(b, i, n);
            }
        }
        s.finish();
        return s;
    }

    @Test
    void anyChunking_givesTheSameHeadersAndHash_andPassesBytesOnUnchanged() throws IOException {
        byte[] b = MESSAGE.getBytes(StandardCharsets.US_ASCII);
        MessageScan whole = scan(b, b.length, new ByteArrayOutputStream());
        for (int chunk : new int[] {1, 2, 5, 17}) {
            ByteArrayOutputStream next = new ByteArrayOutputStream();
            MessageScan s = scan(b, chunk, next);
            assertThat(next.toByteArray()).as("chunk %d", chunk).isEqualTo(b);
            assertThat(s.bodyHash()).as("chunk %d", chunk).isEqualTo(whole.bodyHash());
            assertThat(s.headers().fields()).isEqualTo(whole.headers().fields());
            assertThat(s.size()).isEqualTo(b.length);
        }
        assertThat(whole.headers().fields()).extracting(HeaderField::name).containsExactly("From", "Subject");
        assertThat(whole.bodyHash()).isEqualTo(MessageScan.sha256()
                .digest("line one\r\n.dot line\r\n\r\nlast\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void headersAreKnown_assoonAsTheBlankLinePassed() throws IOException {
        MessageScan s = new MessageScan();
        s.write("From: a@x.org\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(s.headersComplete()).isFalse();
        assertThatThrownBy(s::headers).isInstanceOf(IllegalStateException.class);
        s.write("\r\nbody".getBytes(StandardCharsets.US_ASCII));
        assertThat(s.headersComplete()).isTrue();
        assertThat(s.headers().all("from")).hasSize(1);
    }

    @Test
    void headersOnly_noBlankLine_isAllHeaderAndAnEmptyBody() throws IOException {
        MessageScan s = scan("From: a@x.org\r\nSubject: s".getBytes(StandardCharsets.US_ASCII), 3, null);
        assertThat(s.headers().fields()).extracting(HeaderField::name).containsExactly("From", "Subject");
        assertThat(s.bodyHash()).isEqualTo(MessageScan.sha256().digest(new byte[0]));
    }

    @Test
    void noHeaders_blankFirstLine_isAllBody() throws IOException {
        MessageScan s = scan("\r\nFrom: not a header\r\n".getBytes(StandardCharsets.US_ASCII), 4, null);
        assertThat(s.headers().fields()).isEmpty();
        assertThat(s.bodyHash()).isEqualTo(MessageScan.sha256()
                .digest("From: not a header\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    @org.junit.jupiter.api.Test
    void aScanToldNoSignatureWillBeMade_passesEveryByteOn_butHashesNoBody() throws Exception {
        java.io.ByteArrayOutputStream next = new java.io.ByteArrayOutputStream();
        java.util.List<HeaderBlock> asked = new java.util.ArrayList<>();
        MessageScan s = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, next, h -> {
            asked.add(h);
            return false;
        });
        byte[] msg = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        s.write(msg);
        s.finish();
        org.assertj.core.api.Assertions.assertThat(next.toByteArray()).isEqualTo(msg);
        org.assertj.core.api.Assertions.assertThat(asked).hasSize(1);
        org.assertj.core.api.Assertions.assertThat(s.headers().all("Subject")).hasSize(1);
        org.assertj.core.api.Assertions.assertThatThrownBy(s::bodyHash).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not hashed");

        MessageScan headersOnly = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, null, h -> {
            asked.add(h);
            return true;
        });
        headersOnly.write("From: a@example.com\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        headersOnly.finish();
        org.assertj.core.api.Assertions.assertThat(asked).hasSize(2); // asked at the end when no body follows
        org.assertj.core.api.Assertions.assertThat(headersOnly.bodyHash()).hasSize(32);
    }
}
