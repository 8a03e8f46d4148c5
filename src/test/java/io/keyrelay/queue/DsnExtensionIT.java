package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DSN extension (RFC 3461): advertised; RET, ENVID, NOTIFY and ORCPT validated (xtext), stored, honoured in
 * keyrelay's own bounces, and passed on to a downstream that offers DSN — in queue and in passthrough mode.
 */
class DsnExtensionIT {
    private static final String MAIL = "MAIL FROM:<app@example.com> RET=HDRS ENVID=env+2B1";
    private static final String RCPT = "RCPT TO:<r@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;orig+40example.org";

    @TempDir
    Path dir;

    private static RawSmtpClient.Reply sendWithDsn(RawSmtpClient c) {
        c.command(MAIL).assertCode(250);
        c.command(RCPT).assertCode(250);
        c.command("DATA").assertCode(354);
        c.write(RawSmtpClient.stuff("Subject: dsn\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII)));
        return c.read();
    }

    @Test
    void ehloAdvertisesDsn_andMalformedParametersGet501WhileTheSessionGoesOn() {
        try (RelayHarness relay = RelayHarness.builder(dir).start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                assertThat(c.ehlo().lines()).contains("DSN");
                for (String bad : List.of("RET=BOGUS", "RET=FULL RET=HDRS", "ENVID=a=b", "ENVID=a+2b", "ENVID=" + "x".repeat(101))) {
                    c.command("MAIL FROM:<a@example.com> " + bad).assertCode(501);
                }
                c.command("MAIL FROM:<a@example.com> RET=full ENVID=ok").assertCode(250);
                for (String bad : List.of("NOTIFY=NEVER,SUCCESS", "NOTIFY=SOMETIMES", "NOTIFY=FAILURE,FAILURE",
                        "ORCPT=rfc822", "ORCPT=;x", "ORCPT=rfc822;a=b", "NOTIFY=NEVER NOTIFY=NEVER")) {
                    c.command("RCPT TO:<r@example.net> " + bad).assertCode(501);
                }
                c.command("RCPT TO:<r@example.net> FOO=1").assertCode(555);
                c.command("RCPT TO:<r@example.net> notify=never").assertCode(250);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"queue", "passthrough"})
    void dsnParameters_arePassedToADownstreamThatOffersDsn(String mode) {
        try (ScriptedMta mta = new ScriptedMta().pipelining(false); // it offers DSN instead of PIPELINING
                RelayHarness relay = RelayHarness.builder(dir).downstreamPort(mta.port())
                        .set(io.keyrelay.config.Setting.RELAY_MODE, mode).start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                sendWithDsn(c).assertCode(250);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> mta.received().size() == 1);
            assertThat(mta.received().getFirst().from()).isEqualTo("<app@example.com> RET=HDRS ENVID=env+2B1");
            assertThat(mta.received().getFirst().to())
                    .containsExactly("r@example.net NOTIFY=FAILURE,DELAY ORCPT=rfc822;orig+40example.org");
        }
    }

    @Test
    void withoutDsnAtTheDownstream_theParametersAreNotSent() {
        try (ScriptedMta mta = new ScriptedMta(); // PIPELINING, no DSN
                RelayHarness relay = RelayHarness.builder(dir).downstreamPort(mta.port()).start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                sendWithDsn(c).assertCode(250);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> mta.received().size() == 1);
            assertThat(mta.received().getFirst().from()).isEqualTo("<app@example.com>");
            assertThat(mta.received().getFirst().to()).containsExactly("r@example.net");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void storedAndHonouredInBounces_retHdrsEnvidOrcpt_andNotifyNeverSuppresses(Kind kind) throws Exception {
        try (ScriptedMta mta = new ScriptedMta().rcptReply("r@example.net", "550 5.1.1 gone")
                .rcptReply("quiet@example.net", "550 5.1.1 gone too");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.command(MAIL).assertCode(250);
                c.command(RCPT).assertCode(250);
                c.command("RCPT TO:<quiet@example.net> NOTIFY=NEVER").assertCode(250);
                c.command("DATA").assertCode(354);
                c.write(RawSmtpClient.stuff("Subject: dsn\r\nX-Marker: m\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII)));
                String t = c.read().assertCode(250).text();
                id = t.substring(t.indexOf("queued as ") + 10).strip();
            }
            QueueService q = relay.runtime().queue().service();
            QueuedMessage stored = await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).orElseThrow(),
                    m -> m.state() == MessageState.FAILED);
            assertThat(stored.envelope().dsnRet()).isEqualTo("HDRS");
            assertThat(stored.envelope().dsnEnvid()).isEqualTo("env+2B1");
            assertThat(stored.recipients()).extracting(QueuedMessage.RecipientStatus::dsnNotify)
                    .containsExactly("FAILURE,DELAY", "NEVER");
            assertThat(stored.recipients().getFirst().dsnOrcpt()).isEqualTo("rfc822;orig+40example.org");

            await().atMost(Duration.ofSeconds(10)).until(() -> mta.received().size() == 1);
            MimeMessage m = new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream(mta.received().getFirst().data()));
            MultipartReport report = (MultipartReport) m.getContent();
            assertThat(((DeliveryStatus) report.getReport()).getMessageDSN().getHeader("Original-Envelope-Id")[0])
                    .isEqualTo("env+2B1");
            assertThat(((DeliveryStatus) report.getReport()).getRecipientDSNCount()).isEqualTo(1); // quiet@ asked for none
            InternetHeaders rcpt = ((DeliveryStatus) report.getReport()).getRecipientDSN(0);
            assertThat(rcpt.getHeader("Original-Recipient")[0]).isEqualTo("rfc822; orig@example.org");
            assertThat(rcpt.getHeader("Final-Recipient")[0]).isEqualTo("rfc822; r@example.net");
            // RET=HDRS: the headers only, as text/rfc822-headers.
            assertThat(report.getBodyPart(2).getContentType()).startsWith("text/rfc822-headers");
            String returned = new String(report.getBodyPart(2).getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(returned).contains("X-Marker: m").doesNotContain("body");
        }
    }
}
