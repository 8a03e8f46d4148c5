package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mail transaction end to end: byte-for-byte relaying through GreenMail, per-recipient pass-through, downstream
 * failures, size and recipient limits, connection reuse; on H2 and PostgreSQL.
 */
@ParameterizedClass
@EnumSource(Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelayTransactionIT {
    @TempDir
    static Path dir;

    @Parameter
    Kind kind;

    private RelayHarness relay;
    private CreatedKey key;

    @BeforeParameterizedClassInvocation
    void start(Kind kind) {
        relay = RelayHarness.builder(dir.resolve(kind.name())).passthrough().store(kind)
                .set(Setting.SMTP_MAX_MESSAGE_SIZE, "64KiB")
                .set(Setting.SMTP_MAX_RECIPIENTS, "3")
                .start();
        key = relay.createKey("tx");
    }

    @AfterParameterizedClassInvocation
    void stop() {
        relay.close();
    }

    private static byte[] fixture(String name) throws Exception {
        return Files.readAllBytes(Path.of("src/test/resources/fixtures", name));
    }

    private static byte[] raw(MimeMessage m) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        m.writeTo(b);
        return b.toByteArray();
    }

    /** Drops the first n header lines (GreenMail's or ours), continuation lines included. */
    private static byte[] dropHeaders(byte[] message, int n) {
        String s = new String(message, StandardCharsets.ISO_8859_1);
        int pos = 0;
        for (int i = 0; i < n; i++) {
            do {
                pos = s.indexOf("\r\n", pos) + 2;
            } while (s.charAt(pos) == '\t' || s.charAt(pos) == ' ');
        }
        return s.substring(pos).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] withoutFinalCrlf(byte[] b) {
        return b.length >= 2 && b[b.length - 2] == '\r' && b[b.length - 1] == '\n' ? Arrays.copyOf(b, b.length - 2) : b;
    }

    private MimeMessage onlyMessageTo(String rcpt) {
        await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(rcpt).size() == 1);
        return messagesTo(rcpt).get(0);
    }

    private List<MimeMessage> messagesTo(String rcpt) {
        return relay.greenMail().findReceivedMessages(u -> u.getEmail().equalsIgnoreCase(rcpt), m -> true).toList();
    }

    private static String rcpt(String tag) {
        return tag + "-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@dest.test";
    }

    @ParameterizedTest
    @ValueSource(strings = {"dkim-signed.eml", "utf8-8bit.eml", "dots.eml", "no-trailing-crlf.eml"})
    void relay_preservesBytesExactly(String name) throws Exception {
        byte[] original = fixture(name);
        String to = rcpt("bytes");
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            c.command("MAIL FROM:<sender@example.com> BODY=8BITMIME").assertCode(250);
            c.command("RCPT TO:<" + to + ">").assertCode(250);
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff(original));
            c.read().assertCode(250);
        }
        byte[] got = raw(onlyMessageTo(to));
        // GreenMail puts Return-Path and its own Received first; then comes ours; then the client's bytes.
        String ours = new String(dropHeaders(got, 2), StandardCharsets.ISO_8859_1);
        assertThat(ours).startsWith("Received: from client.test ([127.0.0.1])\r\n\tby relay.test (keyrelay "
                + relay.config().cluster().nodeName() + ") with ESMTPSA (TLSv1.3:");
        assertThat(ours).contains("for <" + to + ">; ");
        assertThat(dropHeaders(got, 3)).isEqualTo(withoutFinalCrlf(original));
    }

    @Test
    void smtpUtf8_andBodyParameters_arePassedToTheDownstream_exactBytesKept() throws Exception {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-utf8")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("utf8");
            byte[] original = fixture("utf8-8bit.eml");
            try (RawSmtpClient c = r.authenticated(k.secret())) {
                c.command("MAIL FROM:<jürgen@exämple.com> SMTPUTF8 BODY=8BITMIME SIZE=" + original.length).assertCode(250);
                c.command("RCPT TO:<empfänger@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                c.write(RawSmtpClient.stuff(original));
                assertThat(c.read().assertCode(250).text()).contains("queued as SCRIPTED");
                // Without SMTPUTF8 a non-ASCII address is refused before it reaches the downstream.
                c.command("MAIL FROM:<jürgen@exämple.com>").assertCode(553);
            }
            ScriptedMta.Received got = mta.received().get(0);
            assertThat(got.from()).isEqualTo("<jürgen@exämple.com> SIZE=" + original.length + " BODY=8BITMIME SMTPUTF8");
            assertThat(got.to()).containsExactly("empfänger@dest.test");
            String data = new String(got.data(), StandardCharsets.ISO_8859_1);
            assertThat(data).startsWith("Received: from client.test");
            assertThat(dropHeaders(got.data(), 1)).isEqualTo(original);
        }
    }

    @Test
    void oversizedMessage_isReadToTheEnd_then552_andTheSessionGoesOn() {
        String big = rcpt("big");
        String small = rcpt("small");
        byte[] huge = ("Subject: big\r\n\r\n" + "x".repeat(998) + "\r\n").repeat(200).getBytes(StandardCharsets.US_ASCII);
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            RawSmtpClient.Reply r = c.send("a@example.com", List.of(big), huge);
            assertThat(r.code()).isEqualTo(552);
            assertThat(r.text()).isEqualTo("5.3.4 Message size exceeds fixed maximum message size");
            c.send("a@example.com", List.of(small), "Subject: small\r\n\r\nok\r\n".getBytes()).assertCode(250);
            c.command("MAIL FROM:<a@example.com> SIZE=" + (64 * 1024 + 1)).assertCode(552);
            c.command("NOOP").assertCode(250);
        }
        onlyMessageTo(small);
        assertThat(messagesTo(big)).isEmpty();
    }

    @Test
    void tooManyRecipients_is452_andTheAcceptedOnesAreDelivered() {
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            String[] to = {rcpt("a"), rcpt("b"), rcpt("c"), rcpt("d")};
            for (int i = 0; i < 3; i++) {
                c.command("RCPT TO:<" + to[i] + ">").assertCode(250);
            }
            RawSmtpClient.Reply r = c.command("RCPT TO:<" + to[3] + ">").assertCode(452);
            assertThat(r.text()).isEqualTo("4.5.3 Too many recipients");
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff("Subject: three\r\n\r\nx\r\n".getBytes()));
            c.read().assertCode(250);
            await().atMost(Duration.ofSeconds(5)).until(() -> messagesTo(to[2]).size() == 1);
            assertThat(messagesTo(to[3])).isEmpty();
        }
    }

    @Test
    void downstreamDown_gives451_thenTheSameMessageSucceedsWhenItIsBack() {
        String to = rcpt("retry");
        byte[] msg = "Subject: retry\r\n\r\nhello\r\n".getBytes();
        try (ScriptedMta ignored = null) {
            int port = relay.greenMail().getSmtp().getPort();
            GreenMail second;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                relay.greenMail().stop();
                // The downstream connection is taken at the first RCPT: that is where its absence shows.
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                RawSmtpClient.Reply r = c.command("RCPT TO:<" + to + ">");
                assertThat(r.code()).isEqualTo(451);
                assertThat(r.text()).startsWith("4.4.1");
                c.command("RSET").assertCode(250);
                second = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
                second.start();
                try {
                    c.send("a@example.com", List.of(to), msg).assertCode(250);
                    await().atMost(Duration.ofSeconds(5)).until(() -> second.getReceivedMessages().length == 1);
                } finally {
                    second.stop();
                }
            }
        } finally {
            relay.greenMail().start();
        }
    }

    @Test
    void recipientRejectedDownstream_getsTheDownstreamsAnswer_othersAreDelivered() {
        try (ScriptedMta mta = new ScriptedMta().rcptReply("bad@dest.test", "550 5.1.1 <bad@dest.test>: no such user");
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-rcpt")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("rcpt");
            try (RawSmtpClient c = r.authenticated(k.secret())) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<good@dest.test>").assertCode(250);
                RawSmtpClient.Reply bad = c.command("RCPT TO:<bad@dest.test>").assertCode(550);
                assertThat(bad.text()).isEqualTo("5.1.1 <bad@dest.test>: no such user");
                c.command("RCPT TO:<good2@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                c.write(RawSmtpClient.stuff("Subject: x\r\n\r\ny\r\n".getBytes()));
                RawSmtpClient.Reply done = c.read().assertCode(250);
                assertThat(done.text()).isEqualTo("2.0.0 Ok: queued as SCRIPTED");
            }
            assertThat(mta.received()).singleElement()
                    .satisfies(m -> assertThat(m.to()).containsExactly("good@dest.test", "good2@dest.test"));
        }
    }

    @Test
    void pipelinedDownstream_getsMailFromWithTheFirstRcpt_andARefusedSenderIsTheAnswerToRcpt() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-refuse")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("refuse");
            try (RawSmtpClient c = r.authenticated(k.secret())) {
                mta.mailReply("451 4.3.2 Try again later");
                c.command("MAIL FROM:<a@example.com>").assertCode(250); // keyrelay's own checks passed
                assertThat(mta.mailCommands()).isZero(); // not sent on its own
                RawSmtpClient.Reply rcpt = c.command("RCPT TO:<x@dest.test>").assertCode(451);
                assertThat(rcpt.text()).isEqualTo("4.3.2 Try again later");
                mta.mailReply("553 5.7.1 Sender refused");
                RawSmtpClient.Reply again = c.command("RCPT TO:<y@dest.test>").assertCode(553); // MAIL FROM sent again
                assertThat(again.text()).isEqualTo("5.7.1 Sender refused");
                c.command("DATA").assertCode(503); // no recipient was accepted
                c.command("RSET").assertCode(250);
                assertThat(mta.mailCommands()).isEqualTo(2);
                assertThat(mta.pipelinedMailCommands()).isEqualTo(2);

                mta.mailReply("250 2.1.0 Ok");
                assertDataRefusalsArePassedThrough(c, mta);
                assertThat(mta.pipelinedMailCommands()).isEqualTo(mta.mailCommands()); // every MAIL FROM went with a RCPT TO
            }
            assertThat(mta.received()).hasSize(1);
        }
    }

    @Test
    void withoutPipelining_mailFromIsRelayedOnItsOwn_andARefusedSenderIsTheAnswerToTheFirstRcpt() {
        for (boolean offered : new boolean[] {false, true}) {
            try (ScriptedMta mta = new ScriptedMta().pipelining(offered);
                    RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-nopipe-" + offered)).passthrough().store(kind)
                            .downstreamPort(mta.port()).set(Setting.DOWNSTREAM_PIPELINING, offered ? "false" : "true")
                            .start()) {
                CreatedKey k = r.createKey("nopipe");
                try (RawSmtpClient c = r.authenticated(k.secret())) {
                    mta.mailReply("451 4.3.2 Try again later");
                    // MAIL FROM reaches the downstream with the first RCPT (no connection is held before):
                    // its refusal is the answer to that RCPT, as with a pipelining downstream.
                    c.command("MAIL FROM:<a@example.com>").assertCode(250);
                    RawSmtpClient.Reply m = c.command("RCPT TO:<x@dest.test>").assertCode(451);
                    assertThat(m.text()).isEqualTo("4.3.2 Try again later");
                    c.command("RSET").assertCode(250);
                    mta.mailReply("250 2.1.0 Ok");
                    assertDataRefusalsArePassedThrough(c, mta);
                }
                assertThat(mta.received()).hasSize(1);
                assertThat(mta.pipelinedMailCommands()).isZero();
            }
        }
    }

    private static void assertDataRefusalsArePassedThrough(RawSmtpClient c, ScriptedMta mta) {
        mta.dataReply(d -> "554 5.7.1 Message refused as spam");
        RawSmtpClient.Reply d = c.send("a@example.com", List.of("x@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes());
        assertThat(d.code()).isEqualTo(554);
        assertThat(d.text()).isEqualTo("5.7.1 Message refused as spam");
        mta.dataReply(x -> "421 4.3.0 closing");
        RawSmtpClient.Reply closing = c.send("a@example.com", List.of("x@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes());
        assertThat(closing.code()).isEqualTo(451);
        mta.dataReply(x -> "250 2.0.0 fine");
        c.send("a@example.com", List.of("x@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes()).assertCode(250);
    }

    @Test
    void downstreamLostMidData_gives451_never250_andNothingIsDelivered() {
        try (ScriptedMta mta = new ScriptedMta().dropMidData(true);
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-drop")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("drop");
            try (RawSmtpClient c = r.authenticated(k.secret())) {
                byte[] body = ("Subject: s\r\n\r\n" + "line of text\r\n".repeat(2000)).getBytes();
                RawSmtpClient.Reply d = c.send("a@example.com", List.of("x@dest.test"), body);
                assertThat(d.code()).isEqualTo(451);
                assertThat(d.text()).startsWith("4.4.1");
                mta.dropMidData(false);
                c.send("a@example.com", List.of("x@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes()).assertCode(250);
            }
            assertThat(mta.received()).hasSize(1);
        }
    }

    @Test
    void downstreamConnections_areReusedAcrossMessagesAndSessions() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-pool")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("pool");
            for (int s = 0; s < 3; s++) {
                try (RawSmtpClient c = r.authenticated(k.secret())) {
                    for (int i = 0; i < 3; i++) {
                        c.send("a@example.com", List.of("x@dest.test"), ("Subject: " + i + "\r\n\r\nb\r\n").getBytes())
                                .assertCode(250);
                    }
                    c.command("MAIL FROM:<a@example.com>").assertCode(250);
                    c.command("RSET").assertCode(250); // an aborted transaction: RSET downstream, connection kept
                }
            }
            assertThat(mta.received()).hasSize(9);
            assertThat(mta.connections()).isEqualTo(1);
        }
    }

    @Test
    void smugglingSequences_stayInsideOneMessage() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness r = RelayHarness.builder(dir.resolve(kind + "-smuggle")).passthrough().store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey k = r.createKey("smuggle");
            byte[] evil = ("Subject: first\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@x>\r\nDATA\r\n"
                    + "\r\n.\n\r.\r\r.\r\nbye\r\n").getBytes(StandardCharsets.US_ASCII);
            try (RawSmtpClient c = r.authenticated(k.secret())) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<x@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                c.write(evil);
                c.write("\r\n.\r\n".getBytes());
                c.read().assertCode(250);
                c.command("NOOP").assertCode(250);
            }
            assertThat(mta.received()).singleElement().satisfies(m -> {
                String data = new String(m.data(), StandardCharsets.ISO_8859_1);
                assertThat(data).contains("hello\n").contains("MAIL FROM:<evil@x>").contains("bye\r\n");
                assertThat(m.to()).containsExactly("x@dest.test");
            });
        }
    }
}
