package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.MutableClock;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The audit trail's bounded background writer, over an in-memory store the test can hold or break. */
class AuditQueueTest {
    private final FakeKeyStore store = new FakeKeyStore();
    private final MutableClock clock = new MutableClock(Instant.parse("2030-05-01T12:00:00Z"));

    private static ApiKey key() {
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        return new ApiKey("k-1", "app", "ab12", "hash", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null, t, t, null,
                null, null, null);
    }

    private static AuditEvent event(int i) {
        return new AuditEvent(null, Instant.EPOCH, "smtp", AuditEvent.AUTH_FAILED, null, null, "127.0.0.1",
                "reason=unknown n=" + i);
    }

    @Test
    void authFailed_recordsReasonAddressAndShortKey_inTheBackground() throws Exception {
        try (AuditQueue q = new AuditQueue(store, 100, clock).start()) {
            q.authFailed("smtp", "ip_not_allowed", key(), "SMTP_Injection", InetAddress.getByName("127.0.0.2"));
            q.authFailed("smtp", "unknown", null, "SMTP_Injection", InetAddress.getByName("::1"));
            await().atMost(Duration.ofSeconds(5)).until(() -> store.auditEvents().size() == 2);
        }
        AuditEvent known = store.auditEvents().get(0);
        assertThat(known.action()).isEqualTo(AuditEvent.AUTH_FAILED);
        assertThat(known.actor()).isEqualTo("smtp");
        assertThat(known.at()).isEqualTo(clock.instant());
        assertThat(known.keyId()).isEqualTo("k-1");
        assertThat(known.shortKey()).isEqualTo("ab12");
        assertThat(known.clientAddress()).isEqualTo("127.0.0.2");
        assertThat(known.detail()).isEqualTo("reason=ip_not_allowed username=\"SMTP_Injection\"");
        AuditEvent unknown = store.auditEvents().get(1);
        assertThat(unknown.keyId()).isNull();
        assertThat(unknown.shortKey()).isNull();
        assertThat(unknown.clientAddress()).isEqualTo("0:0:0:0:0:0:0:1");
    }

    @Test
    void aFlood_whileTheStoreIsSlow_isBoundedByTheQueue_droppedEventsAreCountedAndLogged() throws Exception {
        try (LogCapture log = LogCapture.of("io.keyrelay.keys.AuditQueue");
                AuditQueue q = new AuditQueue(store, 100, clock).start()) {
            store.hold();
            assertThat(q.offer(event(0))).isTrue();
            assertThat(store.firstWriteStarted.await(5, TimeUnit.SECONDS)).as("the writer took it and is stuck").isTrue();
            int accepted = 0;
            for (int i = 1; i <= 1000; i++) {
                if (q.offer(event(i))) {
                    accepted++;
                }
            }
            assertThat(accepted).isEqualTo(100);
            assertThat(q.dropped()).isEqualTo(900);
            assertThat(q.depth()).isEqualTo(100);

            store.release();
            await().atMost(Duration.ofSeconds(5)).until(() -> q.written() == 101);
            // 1001 events cost two insert transactions (one batch of 1, one of 100), not 1001.
            assertThat(store.writeAttempts.get()).isEqualTo(2);
            assertThat(store.auditBatches).extracting(java.util.List::size).containsExactly(1, 100);
            await().atMost(Duration.ofSeconds(5)).until(() -> log.all().contains("900 failed-AUTH events dropped"));
        }
    }

    @Test
    void anUnreachableStore_isRetried_andNothingQueuedIsLost() {
        try (LogCapture log = LogCapture.of("io.keyrelay.keys.AuditQueue");
                AuditQueue q = new AuditQueue(store, 100, clock, Duration.ofMillis(50)).start()) {
            store.failing.set(true);
            for (int i = 0; i < 10; i++) {
                q.offer(event(i));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> store.writeAttempts.get() >= 3);
            assertThat(store.auditEvents()).isEmpty();
            assertThat(log.messages()).filteredOn(m -> m.contains("cannot write")).hasSize(1); // once per outage
            store.failing.set(false);
            await().atMost(Duration.ofSeconds(5)).until(() -> q.written() == 10);
            assertThat(store.auditEvents()).extracting(AuditEvent::detail).startsWith("reason=unknown n=0");
            assertThat(log.all()).contains("writing audit events resumed");
            assertThat(q.dropped()).isZero();
        }
    }

    @Test
    void close_writesWhatIsQueued_andRefusesMore() {
        AuditQueue q = new AuditQueue(store, 100, clock).start();
        store.hold();
        for (int i = 0; i < 5; i++) {
            q.offer(event(i));
        }
        store.release();
        q.close();
        assertThat(store.auditEvents()).hasSize(5);
        assertThat(q.offer(event(6))).isFalse();
        assertThat(q.dropped()).isEqualTo(1);
    }
}
