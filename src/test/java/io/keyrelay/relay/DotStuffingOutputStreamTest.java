package io.keyrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DotStuffingOutputStreamTest {

    private static String stuff(String content, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DotStuffingOutputStream d = new DotStuffingOutputStream(out);
        byte[] b = content.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < b.length; i += chunk) {
            int n = Math.min(chunk, b.length - i);
            if (n == 1) {
                d.write(b[i]);
            } else {
                d.write(b, i, n);
            }
        }
        d.finish();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a\\r\\nb\\r\\n|a\\r\\nb\\r\\n.\\r\\n",
        ".x\\r\\n|..x\\r\\n.\\r\\n",
        "a\\r\\n.\\r\\nb\\r\\n|a\\r\\n..\\r\\nb\\r\\n.\\r\\n",
        "no newline|no newline\\r\\n.\\r\\n",
        "a\\n.\\nb\\r\\n|a\\n..\\nb\\r\\n.\\r\\n",
        "a\\r.\\rb\\r\\n|a\\r..\\rb\\r\\n.\\r\\n",
        "x.y\\r\\n|x.y\\r\\n.\\r\\n",
    })
    void stuffsDotsAfterAnyLineBreak_andTerminates(String in, String expected) throws IOException {
        String content = in.replace("\\r", "\r").replace("\\n", "\n");
        String want = expected.replace("\\r", "\r").replace("\\n", "\n");
        for (int chunk : new int[] {1, 2, 3, 1000}) {
            assertThat(stuff(content, chunk)).as("chunk %d", chunk).isEqualTo(want);
        }
    }

    @ParameterizedTest
    @CsvSource({"''"})
    void emptyContent_isJustTheTerminator(String in) throws IOException {
        assertThat(stuff(in, 10)).isEqualTo(".\r\n");
    }
}
