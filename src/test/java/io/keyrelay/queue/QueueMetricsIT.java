package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.RawHttp;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the downstream down, queue mode keeps accepting, the node stays ready, and the queue's meters say what is
 * waiting: depth by state, the oldest message's age, attempts and deferred recipients.
 */
class QueueMetricsIT {
    @TempDir
    Path dir;

    private static double gauge(MeterRegistry r, String name, String state) {
        return state == null ? r.get(name).gauge().value() : r.get(name).tag("state", state).gauge().value();
    }

    @Test
    void downstreamDown_acceptsStaysReady_andTheMetersShowTheBacklog() {
        MutableClock clock = MutableClock.startingNow();
        int admin = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir).downstreamPort(FreePorts.pick()) // nothing listens there
                .set(Setting.ADMIN_PORT, Integer.toString(admin)).set(Setting.DOWNSTREAM_CONNECT_TIMEOUT, "1s")
                .clock(clock).start()) {
            CreatedKey key = relay.createKey("app");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                for (int i = 0; i < 3; i++) {
                    c.send("a@example.com", List.of("r" + i + "@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes())
                            .assertCode(250);
                }
            }
            assertThat(RawHttp.status("127.0.0.1", admin, "/readyz", null)).isEqualTo(200);
            MeterRegistry r = relay.runtime().registry();
            await().atMost(Duration.ofSeconds(15)).until(() -> gauge(r, "keyrelay.queue.messages", "deferred") == 3.0);
            assertThat(gauge(r, "keyrelay.queue.messages", "queued")).isZero();
            assertThat(r.get("keyrelay.queue.accepted").counter().count()).isEqualTo(3.0);
            assertThat(r.get("keyrelay.queue.attempts").counter().count()).isEqualTo(3.0);
            assertThat(r.get("keyrelay.queue.deliveries").tag("result", "deferred").counter().count()).isEqualTo(3.0);
            assertThat(r.get("keyrelay.queue.deliveries").tag("result", "delivered").counter().count()).isZero();
            clock.advance(Duration.ofSeconds(40)); // before the first retry (1m)
            await().atMost(Duration.ofSeconds(5)).until(() -> gauge(r, "keyrelay.queue.oldest.pending", null) >= 40.0);
            assertThat(RawHttp.status("127.0.0.1", admin, "/readyz", null)).isEqualTo(200);
        }
    }
}
