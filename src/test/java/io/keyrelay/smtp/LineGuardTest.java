package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command-line checks in front of SubEthaSMTP's reader, over streams that deliver a few bytes at a time. */
class LineGuardTest {

    /** A socket-like stream: at most {@code chunk} bytes per read. */
    private static InputStream trickle(byte[] bytes, int chunk) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Every read's result, as strings: what the library's buffer would be filled with, call by call. */
    private static List<String> reads(LineGuard g) throws IOException {
        List<String> out = new ArrayList<>();
        byte[] b = new byte[8192];
        int n;
        while ((n = g.read(b, 0, b.length)) >= 0) {
            out.add(new String(b, 0, n, StandardCharsets.ISO_8859_1));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 4096})
    void goodLines_passUnchanged_oneLinePerRead(int chunk) throws IOException {
        String in = "EHLO a.test\r\nMAIL FROM:<ü@exämple.com> SMTPUTF8\r\nNOOP\r\n";
        LineGuard g = new LineGuard(trickle(in.getBytes(StandardCharsets.UTF_8), chunk), false);
        List<String> reads = reads(g);
        assertThat(String.join("", reads)).isEqualTo(new String(in.getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1));
        assertThat(reads).allSatisfy(r -> assertThat(r.indexOf('\n')).isIn(-1, r.length() - 1)); // never past a line
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4096})
    void badLines_becomeMarkers_andWhatFollowsIsServed(int chunk) throws IOException {
        byte[] notUtf8 = {'N', 'O', 'O', 'P', ' ', (byte) 0xC3, '(', '\r', '\n'};
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(ascii("NOOP " + "x".repeat(992) + "\r\n")); // 997 octets: the longest allowed
        in.writeBytes(ascii("NOOP " + "x".repeat(993) + "\r\n")); // 998: too long
        in.writeBytes(ascii("NOOP\nRCPT TO:<b@x.test>\r\n")); // a bare LF ends no line
        in.writeBytes(ascii("NOOP\r\r\n"));
        in.writeBytes(notUtf8);
        in.writeBytes(ascii("X" + "y".repeat(100_000) + "\r" + "\r\n")); // far too long, CR before the CRLF
        in.writeBytes(ascii("QUIT\r\n"));
        LineGuard g = new LineGuard(trickle(in.toByteArray(), chunk), false);
        assertThat(String.join("", reads(g))).isEqualTo("NOOP " + "x".repeat(992) + "\r\n"
                + LineGuard.TOO_LONG + "\r\n" + LineGuard.BARE_CR_OR_LF + "\r\n" + LineGuard.BARE_CR_OR_LF + "\r\n"
                + LineGuard.NOT_UTF8 + "\r\n" + LineGuard.TOO_LONG + "\r\n" + "QUIT\r\n");
    }

    @Test
    void strictUtf8_refusesOverlongSurrogatesAndCutSequences_acceptsFourByteOnes() throws IOException {
        byte[][] bad = {{(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC3, (byte) 0xFF}, {(byte) 0x80}};
        for (byte[] b : bad) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            line.writeBytes(ascii("NOOP "));
            line.writeBytes(b);
            line.writeBytes(ascii("\r\n"));
            assertThat(String.join("", reads(new LineGuard(new ByteArrayInputStream(line.toByteArray()), false))))
                    .isEqualTo(LineGuard.NOT_UTF8 + "\r\n");
        }
        byte[] emoji = "NOOP \uD83D\uDE00 €\r\n".getBytes(StandardCharsets.UTF_8);
        assertThat(String.join("", reads(new LineGuard(new ByteArrayInputStream(emoji), false))))
                .isEqualTo(new String(emoji, StandardCharsets.ISO_8859_1));
    }

    @Test
    void passMode_handsOutEveryByteUnchecked_bufferedOnesFirst_thenChecksAgain() throws IOException {
        // DATA's line, then a message whose bytes would all be refused as commands, then a command again.
        String message = "a\nb\rc" + "z".repeat(5000) + "\r\n.\r\n";
        LineGuard g = new LineGuard(new ByteArrayInputStream(ascii("DATA\r\n" + message + "NOOP\nX\r\n")), false);
        byte[] b = new byte[8192];
        int n = g.read(b, 0, b.length);
        assertThat(new String(b, 0, n, StandardCharsets.ISO_8859_1)).isEqualTo("DATA\r\n");
        g.pass();
        byte[] body = new byte[message.length()];
        int got = 0;
        while (got < body.length) {
            got += g.read(body, got, body.length - got);
        }
        assertThat(new String(body, StandardCharsets.ISO_8859_1)).isEqualTo(message);
        g.commands();
        assertThat(String.join("", reads(g))).isEqualTo(LineGuard.BARE_CR_OR_LF + "\r\n");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 4096})
    void dataMode_passesTheMessageToItsEnd_asDataStreamFindsIt_thenChecksWhatWasPipelinedAfter(int chunk)
            throws IOException {
        // Lenient endings (smuggling class) stay inside; a stuffed dot line, CRs before the CRLF; then the real end.
        String message = "a\n.\nb\r.\rc\r\n..\r\nd\r\r\n.x\r\n" + "z".repeat(3000) + "\r\n.\r\n";
        String after = "NOOP " + "x".repeat(1200) + "\r\nNOOP\n X\r\nQUIT\r\n";
        LineGuard g = new LineGuard(trickle(ascii("DATA\r\n" + message + after), chunk), false);
        ByteArrayOutputStream dataLine = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        while (!dataLine.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n")) {
            dataLine.write(b, 0, g.read(b, 0, b.length));
        }
        assertThat(dataLine.toString(StandardCharsets.ISO_8859_1)).isEqualTo("DATA\r\n");
        g.data();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (!body.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n.\r\n")) {
            int n = g.read(b, 0, b.length);
            assertThat(n).isPositive();
            body.write(b, 0, n);
        }
        assertThat(body.toString(StandardCharsets.ISO_8859_1)).isEqualTo(message); // not a byte past the end
        assertThat(String.join("", reads(g))).isEqualTo(LineGuard.TOO_LONG + "\r\n" + LineGuard.BARE_CR_OR_LF + "\r\n"
                + "QUIT\r\n");

        LineGuard under = new LineGuard(trickle(ascii(message + "NOOP\r\n"), chunk), false);
        under.data();
        java.io.BufferedInputStream session = new java.io.BufferedInputStream(under, 8192); // as the library's
        DataStream stream = new DataStream(session, Long.MAX_VALUE);
        String unstuffed = "a\n.\nb\r.\rc\r\n.\r\nd\r\r\nx\r\n" + "z".repeat(3000) + "\r\n";
        assertThat(new String(stream.readAllBytes(), StandardCharsets.ISO_8859_1)).as("DataStream ends where the guard does")
                .isEqualTo(unstuffed);
        assertThat(new String(session.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("NOOP\r\n");
    }

    @Test
    void dataMode_anEmptyMessageEndsAtOnce() throws IOException {
        LineGuard g = new LineGuard(new ByteArrayInputStream(ascii(".\r\nNOOP\r\n")), false);
        g.data();
        byte[] b = new byte[64];
        assertThat(g.read(b, 0, b.length)).isEqualTo(3);
        assertThat(String.join("", reads(g))).isEqualTo("NOOP\r\n");
    }

    @Test
    void availableAndSkip_countBufferedBytes_asStartTlsNeeds() throws IOException {
        LineGuard g = new LineGuard(new ByteArrayInputStream(ascii("STARTTLS\r\nEHLO injected\r\n")), false);
        byte[] b = new byte[64];
        assertThat(g.read(b, 0, b.length)).isEqualTo(10); // STARTTLS<CRLF> only
        assertThat(g.available()).isEqualTo(15);
        assertThat(g.skip(15)).isEqualTo(15);
        assertThat(g.available()).isZero();
        assertThat(g.read(b, 0, b.length)).isEqualTo(-1);
    }
}
