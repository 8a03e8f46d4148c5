package io.keyrelay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MessageContentTest {

    @ParameterizedTest
    @ValueSource(longs = {256, 257, 1000, 2048, 65_519, 65_520, 65_521, 65_600, 131_041, 1_048_576, 1_048_577})
    void content_isExactlyTheSizeInShortCrlfLinesWithNoLeadingDotAndTheTerminator(long size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MessageContent m = MessageContent.of(size, "a@example.com", "b@example.com");
        m.writeTo(out);
        byte[] b = out.toByteArray();

        assertThat(m.size()).isEqualTo(size);
        assertThat(b).hasSize((int) size + 3);
        int lineStart = 0;
        for (int i = 0; i < size; i++) {
            if (b[i] == '\n') {
                assertThat(b[i - 1]).as("LF at %d follows CR", i).isEqualTo((byte) '\r');
                assertThat(i - lineStart + 1).as("line at %d", lineStart).isLessThanOrEqualTo(1000);
                lineStart = i + 1;
            } else if (b[i] == '\r') {
                assertThat(b[i + 1]).isEqualTo((byte) '\n');
            }
            if (i == lineStart) {
                assertThat(b[i]).as("line start at %d", i).isNotEqualTo((byte) '.');
            }
        }
        assertThat(lineStart).as("content ends with CRLF").isEqualTo((int) size);
        assertThat(new String(b, (int) size, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo(".\r\n");
    }

    @Test
    void fiftyMebibytes_areWrittenFromOneRepeatedBlock() throws IOException {
        long size = 50L << 20;
        long[] count = {0};
        MessageContent.of(size, "a@example.com", "b@example.com").writeTo(new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        });
        assertThat(count[0]).isEqualTo(size + 3);
    }

    @Test
    void tooSmallForTheHeaders_isRefusedNamingTheOption() {
        assertThatThrownBy(() -> MessageContent.of(100, "a@example.com", "b@example.com"))
                .hasMessageStartingWith("--size: 100 bytes is too small");
    }
}
