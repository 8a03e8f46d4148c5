package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.BodyPart;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bounces (RFC 3464) on H2 and PostgreSQL: a failed recipient gets its sender one {@code multipart/report} from
 * {@code <>}, through the queue, naming the recipient, the downstream's reply and the queue id — checked by parsing
 * it back with jakarta.mail and Angus Mail's DSN classes; a message from {@code <>} never gets one.
 */
class QueueBounceIT {
    @TempDir
    Path dir;

    private static final Session MAIL = Session.getInstance(new Properties());

    private static String queuedId(RawSmtpClient.Reply r) {
        String t = r.text();
        return t.substring(t.indexOf("queued as ") + "queued as ".length()).strip();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void failedRecipient_getsOneBounceNamingRecipientReplyAndQueueId(Kind kind) throws Exception {
        try (ScriptedMta mta = new ScriptedMta().rcptReply("bad@example.net", "550 5.1.1 <bad@example.net>: no such user");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey key = relay.createKey("app");
            byte[] original = "From: app@example.com\r\nTo: bad@example.net\r\nSubject: will bounce\r\nMessage-ID: <m1@example.com>\r\n\r\nbody\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("ok@example.net", "bad@example.net"), original)
                        .assertCode(250));
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> mta.received().size() == 2);
            ScriptedMta.Received bounce = mta.received().stream().filter(r -> r.from().equals("<>")).findFirst()
                    .orElseThrow();
            assertThat(bounce.to()).containsExactly("app@example.com");
            assertThat(mta.received()).filteredOn(r -> !r.from().equals("<>")).singleElement()
                    .satisfies(r -> assertThat(r.to()).containsExactly("ok@example.net"));

            MimeMessage m = new MimeMessage(MAIL, new ByteArrayInputStream(bounce.data()));
            assertThat(m.getHeader("From")[0]).contains("MAILER-DAEMON@relay.test");
            assertThat(m.getHeader("Auto-Submitted")[0]).isEqualTo("auto-replied");
            assertThat(m.getContentType()).startsWith("multipart/report").contains("report-type=delivery-status");
            MultipartReport report = (MultipartReport) m.getContent();
            assertThat(report.getText()).contains("<bad@example.net>: 550 5.1.1 <bad@example.net>: no such user")
                    .contains(id).doesNotContain("ok@example.net");
            DeliveryStatus status = ((DeliveryStatus) report.getReport());
            assertThat(status.getMessageDSN().getHeader("Reporting-MTA")[0]).isEqualTo("dns; relay.test");
            assertThat(status.getMessageDSN().getHeader("X-Keyrelay-Queue-ID")[0]).isEqualTo(id);
            assertThat(status.getRecipientDSNCount()).isEqualTo(1);
            InternetHeaders rcpt = status.getRecipientDSN(0);
            assertThat(rcpt.getHeader("Final-Recipient")[0]).isEqualTo("rfc822; bad@example.net");
            assertThat(rcpt.getHeader("Action")[0]).isEqualTo("failed");
            assertThat(rcpt.getHeader("Status")[0]).isEqualTo("5.1.1");
            assertThat(rcpt.getHeader("Diagnostic-Code")[0]).isEqualTo("smtp; 550 5.1.1 <bad@example.net>: no such user");
            // Small, no RET: the original comes back whole, keyrelay's Received header included.
            BodyPart returned = report.getBodyPart(2);
            assertThat(returned.getContentType()).startsWith("message/rfc822");
            MimeMessage back = (MimeMessage) returned.getContent();
            assertThat(back.getMessageID()).isEqualTo("<m1@example.com>");
            assertThat(back.getHeader("Received")[0]).contains("id " + id);

            QueueService q = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.list(QueueFilter.all(10)).size() == 1);
            assertThat(q.get(id).orElseThrow().state()).isEqualTo(MessageState.FAILED);
            assertThat(relay.runtime().registry().get("keyrelay.queue.dsn.sent").counter().count()).isEqualTo(1.0);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void messageFromTheNullSender_neverGetsABounce(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta().rcptReply("bad@example.net", "550 5.1.1 no such user");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).start()) {
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.command("MAIL FROM:<>").assertCode(250);
                c.command("RCPT TO:<bad@example.net>").assertCode(250);
                c.command("DATA").assertCode(354);
                c.write(RawSmtpClient.stuff("Subject: a bounce itself\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII)));
                id = queuedId(c.read().assertCode(250));
            }
            QueueService q = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.state() == MessageState.FAILED)
                    .orElse(false));
            assertThat(q.list(QueueFilter.all(10))).extracting(QueuedMessage::id).containsExactly(id);
            assertThat(mta.received()).isEmpty();
            assertThat(relay.runtime().registry().get("keyrelay.queue.dsn.sent").counter().count()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void stillDeferredAfterDelayWarning_senderGetsOneWarning(Kind kind) throws Exception {
        io.keyrelay.testing.MutableClock clock = io.keyrelay.testing.MutableClock.startingNow();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("slow@example.net", "451 4.2.1 try later");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).clock(clock)
                        .set(io.keyrelay.config.Setting.QUEUE_DELAY_WARNING, "1h")
                        .set(io.keyrelay.config.Setting.QUEUE_RETRY_SCHEDULE, "30m").start()) {
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("slow@example.net"),
                        "Subject: slow\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII)).assertCode(250));
            }
            QueueService q = relay.runtime().queue().service();
            for (int attempt = 1; attempt <= 4; attempt++) {
                int n = attempt;
                await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.attempts() == n
                        && m.state() == MessageState.DEFERRED).orElse(false));
                if (attempt < 3) {
                    assertThat(mta.received()).as("no warning before an hour").isEmpty();
                }
                clock.advance(Duration.ofMinutes(30));
                relay.runtime().queue().workers().wake();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !mta.received().isEmpty());
            assertThat(mta.received()).hasSize(1); // one warning, not one per attempt
            ScriptedMta.Received warning = mta.received().getFirst();
            assertThat(warning.from()).isEqualTo("<>");
            MultipartReport report = (MultipartReport) new MimeMessage(MAIL,
                    new ByteArrayInputStream(warning.data())).getContent();
            InternetHeaders rcpt = ((DeliveryStatus) report.getReport()).getRecipientDSN(0);
            assertThat(rcpt.getHeader("Action")[0]).isEqualTo("delayed");
            assertThat(rcpt.getHeader("Status")[0]).isEqualTo("4.2.1");
            assertThat(report.getText()).contains("will be retried").contains(id);
        }
    }
}
