package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CanonicalizationTest {
    /** RFC 6376 section 3.4.5's example message. */
    private static final String RFC_EXAMPLE = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

    /** The relaxed body, as bytes, by hashing it with a digest that records what it is given. */
    private static String relaxedBody(String body, int chunk) {
        Recording rec = new Recording();
        RelaxedBody r = new RelaxedBody(rec);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += chunk) {
            r.write(b, i, Math.min(chunk, b.length - i));
        }
        r.finish();
        return rec.seen.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rfcExample_relaxedHeadersAndBody() throws IOException {
        MessageScan scan = new MessageScan();
        scan.write(RFC_EXAMPLE.getBytes(StandardCharsets.US_ASCII));
        scan.finish();
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        scan.headers().fields().forEach(f -> RelaxedHeader.append(f, h));
        assertThat(h.toString(StandardCharsets.US_ASCII)).isEqualTo("a:X\r\nb:Y Z\r\n");
        assertThat(relaxedBody(" C \r\nD \t E\r\n\r\n\r\n", 1)).isEqualTo(" C\r\nD E\r\n");
        assertThat(scan.bodyHash()).isEqualTo(sha256(" C\r\nD E\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "empty|''|''",
        "only line ends|\\r\\n\\r\\n|''",
        "only whitespace|  \\t \\r\\n \\r\\n|''",
        "no final CRLF|abc|abc\\r\\n",
        "trailing whitespace|a  \\t\\r\\nb \\r\\n|a\\r\\nb\\r\\n",
        "inner whitespace runs|a \\t  b\\r\\n|a b\\r\\n",
        "leading whitespace kept as one SP|\\t\\t x\\r\\n|' x\\r\\n'",
        "bare LF is a line end|a\\nb \\n\\n|a\\r\\nb\\r\\n",
        "blank lines inside kept|a\\r\\n\\r\\n\\r\\nb\\r\\n\\r\\n|a\\r\\n\\r\\n\\r\\nb\\r\\n",
        "lone CR is content|a\\rb\\r\\n|a\\rb\\r\\n",
        "CR at the very end|a\\r|a\\r\\r\\n",
        "dot lines as content|.\\r\\n..x\\r\\n|.\\r\\n..x\\r\\n",
        "whitespace-only line then text|a\\r\\n   \\r\\nb|a\\r\\n\\r\\nb\\r\\n",
    })
    void relaxedBody_cases(String name, String in, String expected) {
        String body = unescape(in);
        String want = unescape(expected);
        for (int chunk : new int[] {1, 2, 3, 7, 100_000}) {
            assertThat(relaxedBody(body, chunk)).as("%s, chunk %d", name, chunk).isEqualTo(want);
        }
    }

    @Test
    void relaxedHeader_lowercasesName_unfolds_collapses_trims() {
        HeaderField f = HeaderField.of("SUBJECT \t:  Hello\r\n \t  wide   world \t\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RelaxedHeader.append(f, out);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("subject:Hello wide world\r\n");
    }

    @Test
    void relaxedHeader_unfoldsBareLf_butKeepsALoneCr() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RelaxedHeader.append(HeaderField.of("X: a\n b\rc\n".getBytes(StandardCharsets.US_ASCII)), out);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("x:a b\rc\r\n");
    }

    @Test
    void relaxedHeader_keepsUtf8Bytes() {
        byte[] raw = "Subject: Grüße  aus Köln\n".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RelaxedHeader.append(HeaderField.of(raw), out);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("subject:Grüße aus Köln\r\n");
    }

    @Test
    void emptyBodyHash_isTheHashOfNothing() throws IOException {
        MessageScan scan = new MessageScan();
        scan.write("From: a@x.org\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        scan.finish();
        assertThat(Base64.getEncoder().encodeToString(scan.bodyHash()))
                .isEqualTo("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    private static byte[] sha256(String s) {
        return MessageScan.sha256().digest(s.getBytes(StandardCharsets.UTF_8));
    }

    static String unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
    }

    /** A SHA-256 that also keeps what it was given, to compare canonical bytes rather than hashes. */
    private static final class Recording extends MessageDigest {
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        private final MessageDigest real = MessageScan.sha256();

        Recording() {
            super("SHA-256");
        }

        @Override
        protected void engineUpdate(byte input) {
            seen.write(input);
            real.update(input);
        }

        @Override
        protected void engineUpdate(byte[] input, int offset, int len) {
            seen.write(input, offset, len);
            real.update(input, offset, len);
        }

        @Override
        protected byte[] engineDigest() {
            return real.digest();
        }

        @Override
        protected void engineReset() {
            seen.reset();
            real.reset();
        }
    }
}
