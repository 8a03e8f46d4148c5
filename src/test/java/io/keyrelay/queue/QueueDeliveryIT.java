package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Queue mode end to end, on H2 and PostgreSQL: the 250 names a queue id once the message is committed, the
 * message reaches the downstream byte for byte (plus the Received header carrying that id), per-recipient outcomes
 * are recorded and retried on the schedule, expiry follows the injected clock, RCPT holds no downstream
 * connection, and concurrent workers deliver each message once.
 */
class QueueDeliveryIT {
    private static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as ([0-9a-f-]{36})");

    @TempDir
    Path dir;

    private static String queuedId(RawSmtpClient.Reply r) {
        Matcher m = QUEUED.matcher(r.toString());
        assertThat(m.find()).as("a queued-as reply: %s", r).isTrue();
        assertThat(QueueId.isValid(m.group(1))).isTrue();
        return m.group(1);
    }

    /** What the downstream received, without keyrelay's own bounces (from {@code <>}). */
    private static List<ScriptedMta.Received> delivered(ScriptedMta mta) {
        return mta.received().stream().filter(r -> !r.from().equals("<>")).toList();
    }

    private static byte[] message(String subject) {
        return ("From: app@example.com\r\nTo: a@example.net\r\nSubject: " + subject + "\r\n\r\nline one\r\n"
                + ".leading dot\r\n\r\nend\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void queued_messageIsDeliveredByteForByteWithItsIdInReceived(Kind kind) throws Exception {
        try (LogCapture logs = LogCapture.of("io.keyrelay");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).start()) {
            CreatedKey key = relay.createKey("app");
            byte[] content = message("round trip");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("a@example.net"), content));
            }
            relay.greenMail().waitForIncomingEmail(10_000, 1);
            MimeMessage m = relay.greenMail().getReceivedMessages()[0];
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            m.writeTo(raw);
            String got = raw.toString(StandardCharsets.US_ASCII);
            assertThat(m.getHeader("Received")).anyMatch(h -> h.contains("id " + id));
            String client = new String(content, StandardCharsets.US_ASCII);
            // GreenMail drops the CRLF before the final dot (RelayTransactionIT compares the same way).
            String ours = got.substring(got.indexOf("Received: from client.test"));
            assertThat(ours).matches("(?s)Received: from client\\.test \\(\\[127\\.0\\.0\\.1]\\)\r\n\tby relay\\.test"
                    + " \\(keyrelay[^)]*\\) with ESMTPSA \\([^)]+\\) id " + id + "\r\n\tfor <a@example\\.net>; [^\r]+\r\n"
                    + Pattern.quote(client.substring(0, client.length() - 2)));
            await().atMost(Duration.ofSeconds(10)).until(() -> relay.runtime().queue().service().get(id).isEmpty());
            assertThat(logs.all()).contains("tx=" + id).contains("result=queued").contains("id=" + id);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void mixedOutcomes_oneDeliveredOneFailedOneRetriedAfterItsWait(Kind kind) {
        MutableClock clock = MutableClock.startingNow();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("failed@example.net", "550 5.1.1 No such user");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).clock(clock)
                        .start()) {
            mta.rcptReply("later@example.net", "451 4.2.0 Try again later");
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("ok@example.net", "failed@example.net",
                        "later@example.net"), message("mixed")));
            }
            QueueService q = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.state() == MessageState.DEFERRED)
                    .orElse(false));
            QueuedMessage m = q.get(id).orElseThrow();
            assertThat(m.recipients()).extracting(QueuedMessage.RecipientStatus::state)
                    .containsExactly(RecipientState.DELIVERED, RecipientState.FAILED, RecipientState.PENDING);
            assertThat(m.recipients().get(1).lastReply()).isEqualTo("550 5.1.1 No such user");
            assertThat(m.recipients().get(2).lastReply()).isEqualTo("451 4.2.0 Try again later");
            assertThat(m.attempts()).isEqualTo(1);
            assertThat(m.nextAttempt()).isEqualTo(m.attemptLog().getFirst().finishedAt().plus(Duration.ofMinutes(1)));
            assertThat(delivered(mta)).hasSize(1);
            assertThat(delivered(mta).getFirst().to()).containsExactly("ok@example.net");

            // Not due yet: a wake-up delivers nothing.
            relay.runtime().queue().workers().wake();
            mta.rcptReply("later@example.net", "250 2.1.5 Ok");
            clock.advance(Duration.ofSeconds(59));
            relay.runtime().queue().workers().wake();
            assertThat(q.get(id).orElseThrow().attempts()).isEqualTo(1);

            clock.advance(Duration.ofSeconds(2));
            relay.runtime().queue().workers().wake();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(x -> x.state() == MessageState.FAILED)
                    .orElse(false));
            QueuedMessage done = q.get(id).orElseThrow();
            assertThat(done.recipients()).extracting(QueuedMessage.RecipientStatus::state)
                    .containsExactly(RecipientState.DELIVERED, RecipientState.FAILED, RecipientState.DELIVERED);
            assertThat(done.attemptLog()).hasSize(2);
            assertThat(delivered(mta)).hasSize(2);
            assertThat(delivered(mta).get(1).to()).containsExactly("later@example.net");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void deferredPastMaxAge_fails(Kind kind) {
        MutableClock clock = MutableClock.startingNow();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("slow@example.net", "452 4.2.2 Mailbox full");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).clock(clock)
                        .set(Setting.QUEUE_MAX_AGE, "2h").set(Setting.QUEUE_RETRY_SCHEDULE, "1h").start()) {
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("slow@example.net"), message("expiry")));
            }
            QueueService q = relay.runtime().queue().service();
            for (int attempt = 1; attempt <= 2; attempt++) {
                int n = attempt;
                await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.attempts() == n
                        && m.state() == MessageState.DEFERRED).orElse(false));
                clock.advance(Duration.ofHours(1));
                relay.runtime().queue().workers().wake();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.state() == MessageState.FAILED)
                    .orElse(false));
            QueuedMessage m = q.get(id).orElseThrow();
            assertThat(m.attempts()).isEqualTo(3);
            assertThat(m.recipients().getFirst().state()).isEqualTo(RecipientState.FAILED);
            assertThat(m.recipients().getFirst().lastReply()).startsWith("4.4.7 Delivery time expired")
                    .contains("452 4.2.2 Mailbox full");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void idleSessionsInQueueMode_holdNoDownstreamConnection(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port())
                        .set(Setting.LIMITS_SESSIONS_PER_KEY, "0").set(Setting.DOWNSTREAM_POOL_SIZE, "4").start()) {
            CreatedKey noisy = relay.createKey("noisy");
            CreatedKey other = relay.createKey("other");
            List<RawSmtpClient> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 32; i++) {
                    RawSmtpClient c = relay.authenticated(noisy.secret());
                    idle.add(c);
                    c.command("MAIL FROM:<noisy@example.com>").assertCode(250);
                    c.command("RCPT TO:<r" + i + "@example.net>").assertCode(250);
                    c.command("NOOP").assertCode(250);
                }
                assertThat(mta.connections()).isZero();
                try (RawSmtpClient c = relay.authenticated(other.secret())) {
                    queuedId(c.send("other@example.com", List.of("x@example.net"), message("other tenant")));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> mta.received().size() == 1);
                assertThat(mta.connections()).isEqualTo(1);
            } finally {
                idle.forEach(RawSmtpClient::close);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void concurrentWorkers_deliverEachMessageOnce(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port())
                        .set(Setting.QUEUE_WORKERS, "6").start()) {
            CreatedKey key = relay.createKey("app");
            List<String> ids = new ArrayList<>();
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                for (int i = 0; i < 30; i++) {
                    ids.add(queuedId(c.send("app@example.com", List.of("m" + i + "@example.net"), message("n" + i))));
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> mta.received().size() >= 30
                    && relay.runtime().queue().service().list(QueueFilter.all(100)).isEmpty());
            assertThat(mta.received()).hasSize(30);
            assertThat(mta.received()).extracting(r -> r.to().getFirst()).doesNotHaveDuplicates();
            assertThat(ids).isSorted().doesNotHaveDuplicates();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void operatorVerbs_holdReleaseRetryDelete_areAuditedAndTakeEffect(Kind kind) {
        MutableClock clock = MutableClock.startingNow();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("b@example.net", "451 4.3.0 later");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).clock(clock)
                        .start()) {
            CreatedKey key = relay.createKey("app");
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                id = queuedId(c.send("app@example.com", List.of("b@example.net"), message("verbs")));
            }
            QueueService q = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).map(m -> m.state() == MessageState.DEFERRED)
                    .orElse(false));
            assertThat(q.list(new QueueFilter(MessageState.DEFERRED, key.key().id(), null, 10, null)))
                    .extracting(QueuedMessage::id).containsExactly(id);
            assertThat(q.list(new QueueFilter(MessageState.HELD, null, null, 10, null))).isEmpty();
            assertThat(q.counts()).containsEntry(MessageState.DEFERRED, 1L);
            assertThat(q.oldestPending()).isPresent();

            assertThat(q.hold(id, Actor.CLI)).isEqualTo(QueueService.Change.CHANGED);
            assertThat(q.hold(id, Actor.CLI)).isEqualTo(QueueService.Change.NOT_APPLICABLE);
            mta.rcptReply("b@example.net", "250 2.1.5 Ok");
            assertThat(q.retry(id, Actor.CLI)).isEqualTo(QueueService.Change.NOT_APPLICABLE); // held: release first
            relay.runtime().queue().workers().wake();
            assertThat(q.get(id).orElseThrow().state()).isEqualTo(MessageState.HELD);

            assertThat(q.release(id, Actor.CLI)).isEqualTo(QueueService.Change.CHANGED); // due now, without the clock
            await().atMost(Duration.ofSeconds(10)).until(() -> q.get(id).isEmpty());
            assertThat(mta.received()).hasSize(1);

            assertThat(q.delete(id, Actor.CLI)).isEqualTo(QueueService.Change.NOT_FOUND);
            assertThat(q.get("not-an-id")).isEmpty();
            assertThat(relay.runtime().keyStore().audit(key.key().id(), null, null, 10))
                    .extracting(io.keyrelay.keys.AuditEvent::action)
                    .contains("queue.held", "queue.released");
        }
    }
}
