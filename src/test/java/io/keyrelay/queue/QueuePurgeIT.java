package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyService;
import io.keyrelay.store.Database;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code queue.failed_retention} on H2 and PostgreSQL, with an injected clock: a failed message older than the
 * retention (by its last change) is deleted with its body, audited as {@code queue.purged} by {@code system} and
 * counted; younger failed messages and messages in any other state stay; 0 keeps them forever; purges running on
 * several nodes at once delete and audit each message exactly once.
 */
class QueuePurgeIT {
    private static final Duration WEEK = Duration.ofDays(7);

    @TempDir
    Path dir;

    private static KeyService keys(Database d, MutableClock clock) {
        return new KeyService(new JdbcKeyStore(d.dataSource()), KeyHasher.sha256(), new KeyGenerator(), clock);
    }

    private static String failed(QueueFixture q, Instant at) {
        String id = q.queue("app@example.com", List.of("gone@example.net"), "k-1", "kr_a", null, at);
        q.attempt(id, at, "550 5.1.1 no such user", Outcome.Kind.FAILED);
        return id;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void failedMessagesPastTheRetention_areDeletedAuditedAndCounted_othersStay(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
            MutableClock clock = new MutableClock(t0);
            QueueFixture q = new QueueFixture(d.dataSource(), clock);
            String old = failed(q, t0);
            String young = failed(q, t0.plus(Duration.ofDays(3)));
            String deferred = q.queue("app@example.com", List.of("later@example.net"), "k-1", "kr_a", null, t0);
            q.attempt(deferred, t0, "451 4.3.0 try later", Outcome.Kind.DEFERRED);
            QueueService service = new QueueService(new JdbcQueueStore(d.dataSource()), clock, () -> { });
            MeterRegistry registry = new SimpleMeterRegistry();
            QueuePurge purge = new QueuePurge(d.dataSource(), WEEK, clock, registry);

            clock.advance(WEEK.minusSeconds(1)); // the old one's last change is not yet a week ago
            assertThat(purge.purgeOnce()).isZero();
            clock.advance(Duration.ofSeconds(2));
            assertThat(purge.purgeOnce()).isEqualTo(1);
            assertThat(service.get(old)).isEmpty();
            assertThat(service.get(young)).get().extracting(QueuedMessage::state).isEqualTo(MessageState.FAILED);
            assertThat(service.get(deferred)).get().extracting(QueuedMessage::state).isEqualTo(MessageState.DEFERRED);
            assertThat(purge.purgeOnce()).as("nothing more is due").isZero();
            assertThat(registry.get("keyrelay.queue.purged").counter().count()).isEqualTo(1.0);
            try (var c = d.dataSource().getConnection(); var s = c.createStatement();
                    var rs = s.executeQuery("SELECT COUNT(*) FROM queue_bodies WHERE message_id = '" + old + "'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("its body went with it").isZero();
            }
            List<AuditEvent> events = keys(d, clock).audit(null, QueuePurge.PURGED, null, 10);
            assertThat(events).singleElement().satisfies(e -> {
                assertThat(e.actor()).isEqualTo("system");
                assertThat(e.keyId()).isEqualTo("k-1");
                assertThat(e.shortKey()).isEqualTo("kr_a");
                assertThat(e.detail()).contains(old, "failed", "7d");
            });

            // A failed message retried by an operator is no longer failed: the purge leaves it alone.
            clock.advance(Duration.ofDays(30));
            assertThat(service.retry(young, io.keyrelay.keys.Actor.CLI)).isEqualTo(QueueService.Change.CHANGED);
            clock.advance(Duration.ofDays(30));
            assertThat(new QueuePurge(d.dataSource(), Duration.ZERO, clock, new SimpleMeterRegistry()).purgeOnce())
                    .as("0: kept forever").isZero();
            assertThat(purge.purgeOnce()).isZero();
            assertThat(service.get(young)).get().extracting(QueuedMessage::state).isEqualTo(MessageState.DEFERRED);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void purgesOnSeveralNodesAtOnce_deleteAndAuditEachMessageOnce(Kind kind) throws Exception {
        int n = 2 * QueuePurge.BATCH + 37; // several batches each
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
            MutableClock clock = new MutableClock(t0);
            QueueFixture q = new QueueFixture(d.dataSource(), clock);
            for (int i = 0; i < n; i++) {
                failed(q, t0);
            }
            clock.advance(WEEK.plusHours(1));
            List<QueuePurge> nodes = List.of(new QueuePurge(d.dataSource(), WEEK, clock, new SimpleMeterRegistry()),
                    new QueuePurge(d.dataSource(), WEEK, clock, new SimpleMeterRegistry()),
                    new QueuePurge(d.dataSource(), WEEK, clock, new SimpleMeterRegistry()));
            List<Future<Integer>> runs = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(nodes.size())) {
                for (QueuePurge p : nodes) {
                    runs.add(pool.submit((Callable<Integer>) p::purgeOnce));
                }
            }
            int total = 0;
            for (Future<Integer> f : runs) {
                total += f.get();
            }
            assertThat(total).isEqualTo(n);
            QueueService service = new QueueService(new JdbcQueueStore(d.dataSource()), clock, () -> { });
            assertThat(service.counts().values().stream().mapToLong(Long::longValue).sum()).isZero();
            assertThat(keys(d, clock).audit(null, QueuePurge.PURGED, null, 10_000)).hasSize(n)
                    .extracting(AuditEvent::detail).doesNotHaveDuplicates();
        }
    }

    /** The running relay purges with its own clock and counts it on /metrics' registry. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void theRelayPurgesAFailedMessageAfterTheRetention(Kind kind) {
        MutableClock clock = MutableClock.startingNow();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("bad@example.net", "550 5.1.1 <bad@example.net>: no such user");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port()).clock(clock)
                        .set(Setting.QUEUE_FAILED_RETENTION, "2d").start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.send("app@example.com", List.of("bad@example.net"),
                        "Subject: fails\r\n\r\nx\r\n".getBytes()).assertCode(250);
            }
            QueueService service = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> service.counts().getOrDefault(MessageState.FAILED, 0L) == 1L);
            QueuePurge purge = relay.runtime().queuePurge();
            assertThat(purge.purgeOnce()).isZero();
            clock.advance(Duration.ofDays(2).plusMinutes(1));
            assertThat(purge.purgeOnce()).isEqualTo(1);
            assertThat(service.counts().getOrDefault(MessageState.FAILED, 0L)).isZero();
            assertThat(relay.runtime().registry().get("keyrelay.queue.purged").counter().count()).isEqualTo(1.0);
        }
    }
}
