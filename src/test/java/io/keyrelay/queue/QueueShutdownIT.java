package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.store.Database;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graceful shutdown in queue mode: workers stop claiming, a delivery that does not finish within
 * {@code smtp.shutdown_grace} is cut off and its message given back — due now, its attempt not counted — instead of
 * waiting out its lease.
 */
class QueueShutdownIT {
    @TempDir
    Path dir;

    @Test
    void deliveryStuckPastTheGrace_isGivenBackDueNow() throws Exception {
        try (ScriptedMta mta = new ScriptedMta().afterData(ScriptedMta.AfterData.SILENT);
                RelayHarness relay = RelayHarness.builder(dir).downstreamPort(mta.port())
                        .set(Setting.SMTP_SHUTDOWN_GRACE, "2s").start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.send("a@example.com", List.of("r@dest.test"), "Subject: stuck\r\n\r\nbody\r\n".getBytes())
                        .assertCode(250);
            }
            QueueService q = relay.runtime().queue().service();
            await().atMost(Duration.ofSeconds(10)).until(() -> q.counts().get(MessageState.ACTIVE) == 1);
            long t0 = System.nanoTime();
            relay.runtime().drainAndClose();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            // H2 takes a moment to let go of the file it just closed (its file lock is re-checked once a second).
            QueuedMessage m = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (Database db = Database.open(relay.db().db(), relay.db().dataDir())) {
                    return new QueueService(new JdbcQueueStore(db.dataSource()), Clock.systemUTC(), () -> { })
                            .list(QueueFilter.all(10)).getFirst();
                }
            }, x -> true);
            {
                assertThat(m.state()).isEqualTo(MessageState.QUEUED);
                assertThat(m.attempts()).isZero();
                assertThat(m.leaseOwner()).isNull();
                assertThat(m.nextAttempt()).isBefore(java.time.Instant.now().plusSeconds(1));
            }
            assertThat(mta.received()).isEmpty();
        }
    }
}
