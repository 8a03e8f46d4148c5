package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DataStreamTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Reads all content with reads of the given size; returns content and what is left in the socket buffer. */
    private static String[] readAll(String wire, int readSize) throws IOException {
        BufferedInputStream in = new BufferedInputStream(new ByteArrayInputStream(b(wire)), 8192);
        DataStream d = new DataStream(in, Long.MAX_VALUE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[readSize];
        int n;
        while ((n = d.read(buf, 0, readSize)) != -1) {
            out.write(buf, 0, n);
        }
        assertThat(d.count()).isEqualTo(out.size());
        return new String[] {s(out.toByteArray()), s(in.readAllBytes())};
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8192, 65536})
    void endsAtCrlfDotCrlf_keepsTheFinalCrlf_andLeavesPipelinedBytes(int readSize) throws IOException {
        String[] r = readAll("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", readSize);
        assertThat(r[0]).isEqualTo("Subject: x\r\n\r\nbody\r\n");
        assertThat(r[1]).isEqualTo("QUIT\r\n");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 4096})
    void unstuffsDotsAtLineStart_includingTheFirstLine(int readSize) throws IOException {
        String[] r = readAll("..first\r\n...\r\n.. \r\nmid.dle\r\n..\r\n.\r\nNOOP\r\n", readSize);
        assertThat(r[0]).isEqualTo(".first\r\n..\r\n. \r\nmid.dle\r\n.\r\n");
        assertThat(r[1]).isEqualTo("NOOP\r\n");
    }

    @Test
    void emptyMessage_isJustTheTerminator() throws IOException {
        assertThat(readAll(".\r\nRSET\r\n", 100)).containsExactly("", "RSET\r\n");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a\\n.\\nb",          // <LF>.<LF>
        "a\\n.\\r\\nb",       // <LF>.<CRLF>
        "a\\r\\n.\\nb",       // <CRLF>.<LF>
        "a\\r.\\rb",          // <CR>.<CR>
        "a\\r.\\r\\nb",       // <CR>.<CRLF>
        "a\\r\\n.\\rb",       // <CRLF>.<CR>
        "a\\n.\\rb",          // <LF>.<CR>
    })
    void lenientEndings_doNotEndTheData(String escaped) throws IOException {
        String content = escaped.replace("\\r", "\r").replace("\\n", "\n");
        for (int size : new int[] {1, 3, 8192}) {
            String[] r = readAll(content + "\r\n.\r\nNEXT\r\n", size);
            // A dot at the start of a line (after CRLF) with anything but CRLF after it is stuffing: dropped.
            String expected = content.replace("\r\n.", "\r\n");
            assertThat(r[0]).as("read size %d", size).isEqualTo(expected + "\r\n");
            assertThat(r[1]).isEqualTo("NEXT\r\n");
        }
    }

    @Test
    void randomContent_roundTripsThroughStuffing_atEveryReadSize() throws IOException {
        Random rnd = new Random(42);
        byte[] alphabet = b(".\r\nab");
        for (int round = 0; round < 300; round++) {
            byte[] content = new byte[rnd.nextInt(200)];
            for (int i = 0; i < content.length; i++) {
                content[i] = alphabet[rnd.nextInt(alphabet.length)];
            }
            byte[] wire = io.keyrelay.testing.RawSmtpClient.stuff(content);
            String expected = s(content);
            if (!expected.isEmpty() && !expected.endsWith("\r\n")) {
                expected += "\r\n";
            }
            int size = 1 + rnd.nextInt(9);
            String[] r = readAll(s(wire) + "MORE", size);
            assertThat(r[0]).as("round %d", round).isEqualTo(expected);
            assertThat(r[1]).isEqualTo("MORE");
        }
    }

    @Test
    void overTheLimit_throws_thenDrainReadsToTheTerminator() throws IOException {
        String wire = "x".repeat(5000) + "\r\n" + "y".repeat(5000) + "\r\n.\r\nNOOP\r\n";
        BufferedInputStream in = new BufferedInputStream(new ByteArrayInputStream(b(wire)), 8192);
        DataStream d = new DataStream(in, 6000);
        byte[] buf = new byte[1000];
        assertThatThrownBy(() -> {
            while (d.read(buf, 0, buf.length) != -1) {
                // read until the limit trips
            }
        }).isInstanceOf(DataStream.TooLargeException.class);
        d.drain();
        assertThat(d.ended()).isTrue();
        assertThat(d.count()).isEqualTo(10004);
        assertThat(s(in.readAllBytes())).isEqualTo("NOOP\r\n");
    }

    @Test
    void clientGoneBeforeTheEnd_isEof() {
        InputStream in = new BufferedInputStream(new ByteArrayInputStream(b("half a message\r\n")));
        DataStream d = new DataStream(in, Long.MAX_VALUE);
        assertThatThrownBy(() -> {
            byte[] buf = new byte[100];
            while (d.read(buf, 0, 100) != -1) {
                // until EOF
            }
        }).isInstanceOf(EOFException.class);
    }

    @Test
    void singleByteReads_work() throws IOException {
        BufferedInputStream in = new BufferedInputStream(new ByteArrayInputStream(b("ab\r\n.\rc\r\n..d\r\n.\r\n")));
        DataStream d = new DataStream(in, Long.MAX_VALUE);
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = d.read()) != -1) {
            sb.append((char) c);
        }
        assertThat(sb.toString()).isEqualTo("ab\r\n\rc\r\n.d\r\n");
        assertThat(d.count()).isEqualTo(sb.length());
    }
}
