package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link HeaderBlock.Head}: the header block read ahead from a stream, keeping every byte read to find it. */
class HeaderHeadTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A stream that hands out at most {@code step} bytes per read, as a slow socket does. */
    private static InputStream trickle(byte[] b, int step) {
        return new ByteArrayInputStream(b) {
            @Override
            public synchronized int read(byte[] buf, int off, int len) {
                return super.read(buf, off, Math.min(len, step));
            }
        };
    }

    @Test
    void theBlockEndsInsideARead_andTheBytesReadPlusTheRestAreTheMessage() throws IOException {
        byte[] message = ascii("From: a@example.com\r\nSubject: one\r\n two\r\n\r\n.body\r\nmore\r\n");
        for (int step : new int[] {1, 3, 7, 8192}) {
            InputStream in = trickle(message, step);
            HeaderBlock.Head head = HeaderBlock.Head.read(in, HeaderBlock.DEFAULT_MAX_BYTES);
            assertThat(head.block()).as("step %d", step).isNotNull();
            assertThat(head.ended()).isFalse();
            assertThat(head.block().fields()).extracting(HeaderField::name).containsExactly("From", "Subject");
            assertThat(head.block().all("Subject").get(0).value()).contains("one", "two");
            byte[] whole = new SequenceInputStream(head.stream(), in).readAllBytes();
            assertThat(whole).as("step %d", step).isEqualTo(message);
            if (step == 1) { // read exactly to the empty line, not a byte past it
                assertThat(head.length()).isEqualTo(new String(message, StandardCharsets.US_ASCII)
                        .indexOf("\r\n\r\n") + 4);
            }
        }
    }

    @Test
    void bareLineFeeds_endTheBlockToo() throws IOException {
        HeaderBlock.Head head = HeaderBlock.Head.read(trickle(ascii("From: a@b.test\nTo: c@d.test\n\nbody\n"), 1),
                1024);
        assertThat(head.block().fields()).extracting(HeaderField::name).containsExactly("From", "To");
        assertThat(new String(head.bytes(), 0, head.length(), StandardCharsets.US_ASCII))
                .isEqualTo("From: a@b.test\nTo: c@d.test\n\n");
    }

    @Test
    void aMessageOfHeadersAlone_endsWithTheStream() throws IOException {
        byte[] message = ascii("From: a@b.test\r\nSubject: none");
        HeaderBlock.Head head = HeaderBlock.Head.read(new ByteArrayInputStream(message), 1024);
        assertThat(head.ended()).isTrue();
        assertThat(head.block().fields()).extracting(HeaderField::name).containsExactly("From", "Subject");
        assertThat(Arrays.copyOf(head.bytes(), head.length())).isEqualTo(message);
    }

    @Test
    void aBlockPastTheBound_isNotJudged_butItsBytesAreKept() throws IOException {
        StringBuilder b = new StringBuilder();
        while (b.length() < 40_000) {
            b.append("X-Pad: ").append("p".repeat(70)).append("\r\n");
        }
        byte[] message = ascii(b + "From: a@b.test\r\n\r\nbody\r\n");
        InputStream in = new ByteArrayInputStream(message);
        HeaderBlock.Head head = HeaderBlock.Head.read(in, 16_384);
        assertThat(head.block()).isNull();
        assertThat(head.length()).isGreaterThanOrEqualTo(16_384);
        assertThat(new SequenceInputStream(head.stream(), in).readAllBytes()).isEqualTo(message);
        // Within what was read, past the bound: truncated, so not to be trusted either.
        HeaderBlock.Head small = HeaderBlock.Head.read(new ByteArrayInputStream(ascii("From: a@b.test\r\n"
                + "Subject: " + "s".repeat(3000) + "\r\n\r\nbody")), 1000);
        assertThat(small.block()).isNotNull();
        assertThat(small.block().truncated()).isTrue();
    }
}
