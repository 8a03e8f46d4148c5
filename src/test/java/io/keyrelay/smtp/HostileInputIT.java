package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol abuse on a raw socket. Each test asserts the reply, whether the session lives on, that nothing partial
 * was relayed, and (after each test) that the relay still serves a normal client.
 *
 * <p>A line of 998 octets or more, a bare CR or LF in a command line and bytes that are not UTF-8 would end the
 * session in SubEthaSMTP's own line reader; {@link LineGuard} answers them instead and the session goes on — before
 * TLS and inside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {
    @TempDir
    static Path dir;

    private ScriptedMta mta;
    private RelayHarness relay;
    private CreatedKey key;

    @BeforeAll
    void start() {
        mta = new ScriptedMta();
        relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback") // TLS is not the subject here, except for STARTTLS
                .set(Setting.LIMITS_AUTH_FAILURES, "1000").set(Setting.LIMITS_AUTH_DELAY, "0")
                .start();
        key = relay.createKey("hostile");
    }

    @AfterAll
    void stop() {
        relay.close();
        mta.close();
    }

    /** After every test: a well-behaved client still gets its message through. */
    @AfterEach
    void stillServesANormalClient() {
        String rcpt = "normal-" + UUID.randomUUID() + "@dest.test";
        try (RawSmtpClient c = authenticated()) {
            c.send("a@example.com", List.of(rcpt), "Subject: normal\r\n\r\nfine\r\n".getBytes()).assertCode(250);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt) == 1);
    }

    private RawSmtpClient plain() {
        RawSmtpClient c = relay.connect();
        c.expect(220);
        c.ehlo();
        return c;
    }

    private RawSmtpClient authenticated() {
        RawSmtpClient c = plain();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        return c;
    }

    private long messagesTo(String rcpt) {
        return mta.received().stream().filter(m -> m.to().contains(rcpt)).count();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void assertLivesOn(RawSmtpClient c) {
        c.command("NOOP").assertCode(250);
    }

    // --- line lengths ---------------------------------------------------------------------------------------

    @Test
    void commandLineOver512Octets_isServed_theRfcLimitIsAFloorNotACeiling() {
        try (RawSmtpClient c = plain()) {
            String name = "h" + "x".repeat(600) + ".example";
            RawSmtpClient.Reply r = c.command("EHLO " + name).assertCode(250);
            assertThat(r.lines()).contains("AUTH PLAIN LOGIN");
            assertLivesOn(c);
        }
    }

    @Test
    void commandLineOf998OctetsOrMore_is500_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            RawSmtpClient.Reply r = c.command("NOOP " + "x".repeat(1200)).assertCode(500);
            assertThat(r.text()).isEqualTo("5.5.2 Line too long: a command line may have 997 octets before its CRLF");
            assertLivesOn(c);
            c.command("NOOP " + "x".repeat(992)).assertCode(250); // 997 octets: the longest line taken
            c.command("NOOP " + "x".repeat(993)).assertCode(500);
            c.write(ascii("NOOP " + "x".repeat(200_000) + "\r\n")); // no end in sight: answered once, the rest dropped
            c.read().assertCode(500);
            assertLivesOn(c);
        }
    }

    @Test
    void malformedLines_insideTls_areAnsweredToo_andAMessageStillGoesThrough() {
        String rcpt = "after-malformed@dest.test";
        try (RawSmtpClient c = relay.authenticated(key.secret())) { // STARTTLS, then AUTH
            c.command("NOOP " + "x".repeat(1200)).assertCode(500);
            c.write(ascii("NOOP\nNOOP\r\n"));
            c.read().assertCode(500);
            c.write(new byte[] {'N', 'O', 'O', 'P', ' ', (byte) 0xC3, '(', '\r', '\n'});
            c.read().assertCode(500);
            c.send("a@example.com", List.of(rcpt), ascii("Subject: ok\r\n\r\n" + "z".repeat(3000) + "\r\n"))
                    .assertCode(250);
            assertLivesOn(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt) == 1);
        assertThat(onlyMessageTo(rcpt)).endsWith("z".repeat(3000) + "\r\n");
    }

    @Test
    void textLineOver1000OctetsInData_isRelayedUnchanged() {
        String rcpt = "long-line@dest.test";
        byte[] body = ascii("Subject: long\r\n\r\n" + "y".repeat(5000) + "\r\nend\r\n");
        try (RawSmtpClient c = authenticated()) {
            c.send("a@example.com", List.of(rcpt), body).assertCode(250);
            assertLivesOn(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt) == 1);
        assertThat(onlyMessageTo(rcpt)).endsWith(new String(body, StandardCharsets.ISO_8859_1));
    }

    private String onlyMessageTo(String rcpt) {
        return mta.received().stream().filter(m -> m.to().contains(rcpt))
                .map(m -> new String(m.data(), StandardCharsets.ISO_8859_1)).reduce((a, b) -> {
                    throw new AssertionError("more than one message to " + rcpt);
                }).orElseThrow();
    }

    // --- NUL, bare CR and LF, non-ASCII ---------------------------------------------------------------------

    @Test
    void nulBytes_inCommandsAreRefusedWhereTheyMatter_andInDataRelayedAsTheyAre() {
        String rcpt = "nul@dest.test";
        try (RawSmtpClient c = plain()) {
            c.command("EHLO evil\0name").assertCode(250);
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.command("MAIL FROM:<a\0b@example.com>").assertCode(501);
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            c.command("RCPT TO:<" + rcpt + "\0>").assertCode(501);
            c.command("RCPT TO:<" + rcpt + ">").assertCode(250);
            c.command("DATA").assertCode(354);
            c.write(ascii("Subject: nul\r\n\r\nbefore\0after\r\n.\r\n"));
            c.read().assertCode(250);
            assertLivesOn(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt) == 1);
        assertThat(onlyMessageTo(rcpt)).startsWith("Received: from evil_name (").endsWith("before\0after\r\n");
    }

    @Test
    void bareLfInACommandLine_is500_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            c.write(ascii("NOOP\nNOOP\r\n")); // a bare LF ends no line: one line, refused whole, one reply
            assertThat(c.read().assertCode(500).text())
                    .isEqualTo("5.5.2 Syntax error: CR and LF must come together, as CRLF, at the end of the line");
            assertLivesOn(c);
            c.write(ascii("NOOP\r\r\n"));
            c.read().assertCode(500);
            assertLivesOn(c);
        }
    }

    @Test
    void bareCrInACommandLine_is500_andNeitherHalfRuns() {
        try (RawSmtpClient c = plain()) {
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.write(ascii("MAIL FROM:<a@example.com>\rRCPT TO:<b@example.com>\r\n"));
            c.read().assertCode(500);
            c.command("RCPT TO:<b@example.com>").assertCode(503); // no MAIL FROM was taken from the bad line
            assertLivesOn(c);
        }
    }

    @Test
    void nonAsciiCommand_is500_andBytesThatAreNotUtf8_are500Too_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            assertThat(c.command("MÄIL FROM:<a@example.com>").assertCode(500).text())
                    .isEqualTo("5.5.1 Command unrecognized: SMTP commands are ASCII");
            c.command("EHLO ünïcödé.example").assertCode(250);
            assertLivesOn(c);
            c.write(new byte[] {'N', 'O', 'O', 'P', ' ', (byte) 0xC3, '(', '\r', '\n'});
            assertThat(c.read().assertCode(500).text()).isEqualTo("5.5.2 Syntax error: the command line is not valid UTF-8");
            assertLivesOn(c);
            for (byte[] bad : List.of(new byte[] {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
                    new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a surrogate
                    new byte[] {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
                    new byte[] {(byte) 0xE2, (byte) 0x82})) { // cut short
                byte[] line = new byte[5 + bad.length + 2];
                System.arraycopy(ascii("NOOP "), 0, line, 0, 5);
                System.arraycopy(bad, 0, line, 5, bad.length);
                line[line.length - 2] = '\r';
                line[line.length - 1] = '\n';
                c.write(line);
                c.read().assertCode(500);
            }
            assertLivesOn(c);
        }
    }

    @Test
    void malformedLines_pipelinedRightAfterTheMessage_areAnsweredToo() {
        String rcpt = "pipelined-after@dest.test";
        try (RawSmtpClient c = authenticated()) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            c.command("RCPT TO:<" + rcpt + ">").assertCode(250);
            c.command("DATA").assertCode(354);
            // The end of the message and three more lines in one packet, as a pipelining client sends them.
            c.write(ascii("Subject: p\r\n\r\nbody\r\n.\r\nNOOP " + "x".repeat(1200) + "\r\nNOOP\nX\r\nNOOP\r\n"));
            c.read().assertCode(250);
            assertThat(c.read().assertCode(500).text()).startsWith("5.5.2 Line too long");
            assertThat(c.read().assertCode(500).text()).startsWith("5.5.2 Syntax error: CR and LF");
            c.read().assertCode(250);
            assertLivesOn(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt) == 1);
        assertThat(onlyMessageTo(rcpt)).endsWith("Subject: p\r\n\r\nbody\r\n");
    }

    @Test
    void help_listsNoMarkers_andAMarkerSentByHandIsJustAnotherRefusedLine() {
        try (RawSmtpClient c = plain()) {
            c.command("HELP").assertCode(530); // as before: HELP after AUTH
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            RawSmtpClient.Reply help = c.command("HELP").assertCode(214);
            assertThat(help.lines()).anyMatch(l -> l.contains("MAIL")).noneMatch(l -> l.contains("\0"));
            c.command("HELP MAIL").assertCode(214);
            assertThat(c.command("\0LNG").assertCode(500).text()).startsWith("5.5.2 Line too long");
            assertLivesOn(c);
        }
    }

    /** SubEthaSMTP 7.2.2 took the byte 0xFF inside a UTF-8 sequence for end of stream; it never reaches it now. */
    @Test
    void byteFFInsideAUtf8Sequence_is500_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            c.write(new byte[] {'N', 'O', 'O', 'P', ' ', (byte) 0xC3, (byte) 0xFF, '\r', '\n'});
            c.read().assertCode(500);
            assertLivesOn(c);
        }
    }

    @Test
    void emptyAndTinyLines_are500_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            c.command("").assertCode(500);
            c.command("NO").assertCode(500);
            c.command("    ").assertCode(500);
            assertLivesOn(c);
        }
    }

    // --- AUTH -----------------------------------------------------------------------------------------------

    @Test
    void authAbuse_eachGetsItsReply_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            assertThat(c.command("AUTH PLAIN !!!not-base64!!!").assertCode(501).text()).startsWith("5.5.2");
            assertThat(c.command("AUTH PLAIN " + RawSmtpClient.b64("SMTP_Injection\0" + key.secret()))
                    .assertCode(501).text()).startsWith("5.5.2 Invalid AUTH PLAIN");
            c.command("AUTH PLAIN " + RawSmtpClient.b64("\0SMTP_Injection\0" + key.secret() + "\0x")).assertCode(501);
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", "")).assertCode(535);
            c.command("AUTH PLAIN =").assertCode(501);
            assertThat(c.command("AUTH PLAIN " + "QUFB".repeat(200)).assertCode(500).text()).startsWith("5.5.6");
            c.command("AUTH LOGIN").assertCode(334);
            assertThat(c.command("*").assertCode(501).text()).isEqualTo("5.0.0 Authentication cancelled");
            c.command("AUTH PLAIN").assertCode(334);
            c.command("*").assertCode(501);
            c.command("AUTH CRAM-MD5").assertCode(504);
            c.command("AUTH").assertCode(501);
            c.command("AUTH PLAIN a b c").assertCode(501);
            assertLivesOn(c);
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(503);
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            c.command("AUTH LOGIN").assertCode(503);
            c.command("RSET").assertCode(250);
            assertLivesOn(c);
        }
    }

    @Test
    void hugeAuthPayload_overTheLineLimit_isRefused_andTheSessionLivesOn() {
        try (RawSmtpClient c = plain()) {
            c.command("AUTH LOGIN").assertCode(334);
            c.command("QUFB".repeat(2000)).assertCode(501); // the marker line is no base64: the exchange ends
            assertLivesOn(c);
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        }
    }

    @Test
    void theKeyIsNeverLogged_whateverShapeTheAuthTakes() {
        try (LogCapture log = LogCapture.of("")) {
            try (RawSmtpClient c = plain()) {
                c.command("AUTH LOGIN " + RawSmtpClient.b64("SMTP_Injection")).assertCode(334);
                c.command(RawSmtpClient.b64(key.secret())).assertCode(235);
            }
            try (RawSmtpClient c = plain()) {
                c.command("AUTH PLAIN " + RawSmtpClient.plain("nobody", key.secret())).assertCode(535);
                // Username and password swapped, as misconfigured clients do: the key arrives as the username.
                c.command("AUTH PLAIN " + RawSmtpClient.plain(key.secret(), "SMTP_Injection")).assertCode(535);
                c.command("AUTH LOGIN " + RawSmtpClient.b64(key.secret())).assertCode(334);
                c.command(RawSmtpClient.b64("SMTP_Injection")).assertCode(535);
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection:" + key.secret(), key.secret()))
                        .assertCode(535);
            }
            assertThat(log.all()).doesNotContain(key.secret()).doesNotContain(RawSmtpClient.b64(key.secret()))
                    .doesNotContain(RawSmtpClient.plain("nobody", key.secret()))
                    .doesNotContain(key.secret().substring(0, 16)).doesNotContain(key.secret().substring(24))
                    .contains("username=\"****\"");
        }
    }

    // --- STARTTLS -------------------------------------------------------------------------------------------

    @Test
    void commandsPipelinedAfterStartTls_areDiscarded_notRunInsideTls() {
        try (LogCapture log = LogCapture.of("io.keyrelay.smtp"); RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            String injected = "MAIL FROM:<evil@example.com>\r\nRSET\r\n";
            c.write(ascii("STARTTLS\r\n" + injected));
            c.expect(220);
            c.handshake(relay.clientTls());
            RawSmtpClient.Reply first = c.command("EHLO client.test");
            assertThat(first.code()).as("the first reply inside TLS answers EHLO, not an injected command")
                    .isEqualTo(250);
            assertThat(first.lines()).contains("AUTH PLAIN LOGIN");
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.command("MAIL FROM:<a@example.com>").assertCode(250); // 503 if the injected MAIL had run
            c.command("RSET").assertCode(250);
            assertThat(log.all()).contains("discarded " + injected.length() + " bytes sent after STARTTLS");
        }
    }

    @Test
    void startTlsMisuse_getsItsReply() {
        try (RawSmtpClient c = plain()) {
            assertThat(c.command("STARTTLS now").assertCode(501).text()).startsWith("5.5.4");
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            assertThat(c.ehlo().lines()).doesNotContain("STARTTLS");
            assertThat(c.command("STARTTLS").assertCode(503).text()).isEqualTo("5.5.1 STARTTLS is not allowed after AUTH");
            assertLivesOn(c);
        }
        try (RawSmtpClient c = plain()) {
            c.startTls(relay.clientTls());
            c.ehlo();
            assertThat(c.command("STARTTLS").assertCode(503).text()).isEqualTo("5.5.1 TLS already active");
            assertLivesOn(c);
        }
    }

    @Test
    void garbageInsteadOfATlsHandshake_closesTheConnection() {
        try (RawSmtpClient c = plain()) {
            c.command("STARTTLS").assertCode(220);
            c.write(ascii("EHLO this is not TLS\r\n".repeat(20)));
            assertThat(c.closedByServerAfterAnyBytes()).isTrue();
        }
    }

    // --- order and floods -----------------------------------------------------------------------------------

    @Test
    void commandsOutOfOrder_get503_andTheSessionLivesOn() {
        try (RawSmtpClient c = authenticated()) {
            assertThat(c.command("RCPT TO:<x@dest.test>").assertCode(503).text()).isEqualTo("5.5.1 Need MAIL command");
            assertThat(c.command("DATA").assertCode(503).text()).isEqualTo("5.5.1 Need MAIL command");
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            assertThat(c.command("DATA").assertCode(503).text()).isEqualTo("5.5.1 Need RCPT command");
            assertThat(c.command("MAIL FROM:<b@example.com>").assertCode(503).text())
                    .isEqualTo("5.5.1 Sender already specified");
            c.command("RSET").assertCode(250);
            assertLivesOn(c);
        }
    }

    @Test
    void elevenHundredRecipients_theFirstHundredAreTaken_theRest452_andOneMessageIsRelayed() throws Exception {
        String tag = "many-" + UUID.randomUUID().toString().substring(0, 8);
        // 100 taken and 1,000 refused: as many 452s as a session may get without their counting as errors
        // (SessionBudget.RECIPIENT_OVERSHOOT); past that, ClientLimitsIT shows the session closed.
        int n = 100 + SessionBudget.RECIPIENT_OVERSHOOT;
        try (RawSmtpClient c = authenticated()) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            ByteArrayOutputStream rcpts = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                rcpts.writeBytes(ascii("RCPT TO:<" + tag + "-" + i + "@dest.test>\r\n"));
            }
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> c.write(rcpts.toByteArray()));
            int ok = 0;
            int tooMany = 0;
            for (int i = 0; i < n; i++) {
                int code = c.read().code();
                ok += code == 250 ? 1 : 0;
                tooMany += code == 452 ? 1 : 0;
            }
            writer.get();
            assertThat(ok).isEqualTo(100);
            assertThat(tooMany).isEqualTo(n - 100);
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff(ascii("Subject: many\r\n\r\nx\r\n")));
            c.read().assertCode(250);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().stream()
                .anyMatch(m -> m.to().contains(tag + "-0@dest.test")));
        assertThat(mta.received()).filteredOn(m -> m.to().contains(tag + "-0@dest.test")).singleElement()
                .satisfies(m -> assertThat(m.to()).hasSize(100).doesNotContain(tag + "-100@dest.test"));
    }

    @Test
    void aPipeliningFlood_isAnsweredInOrder_oneReplyPerCommand() throws Exception {
        int n = 20_000;
        try (RawSmtpClient c = authenticated()) {
            StringBuilder flood = new StringBuilder();
            for (int i = 0; i < n; i++) {
                // Neither is a junk command (NOOP, RSET, HELP, VRFY, EXPN: see the next test); EHLO ends the
                // transaction the MAIL before it began.
                flood.append(i % 2 == 0 ? "MAIL FROM:<a@example.com>\r\n" : "EHLO flood.test\r\n");
            }
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> c.write(ascii(flood.toString())));
            List<Integer> codes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                codes.add(c.read().code());
            }
            writer.get();
            for (int i = 0; i < n; i++) {
                assertThat(codes.get(i)).as("reply %d", i).isEqualTo(250);
            }
            assertLivesOn(c);
        }
    }

    @Test
    void aFloodOfJunkAndErrors_isAnsweredInOrder_untilTheSessionIsOutOfErrors_thenClosedWith421() throws Exception {
        int n = 20_000;
        try (RawSmtpClient c = authenticated()) {
            StringBuilder flood = new StringBuilder();
            for (int i = 0; i < n; i++) {
                flood.append(i % 3 == 0 ? "NOOP\r\n" : i % 3 == 1 ? "RSET\r\n" : "VRFY someone\r\n");
            }
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.write(ascii(flood.toString()));
                } catch (RuntimeException closed) {
                    // the relay closes the connection while the flood is still being written
                }
            });
            // Each VRFY is an error (502): the 20th (smtp.hard_error_limit) ends the session, after 60 replies.
            for (int i = 0; i < 60; i++) {
                assertThat(c.read().code()).as("reply %d", i).isEqualTo(i % 3 == 2 ? 502 : 250);
            }
            RawSmtpClient.Reply last = c.read().assertCode(421);
            assertThat(last.text()).isEqualTo("4.7.0 Too many errors; closing connection");
            assertThat(c.closedByServer()).isTrue();
            writer.get();
        }
    }
}
