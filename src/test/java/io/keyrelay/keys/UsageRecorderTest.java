package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Last use is remembered in memory and written in one batch per interval, never on the AUTH path; a use in the same
 * second from the same address as the pending one costs no map write at all.
 */
class UsageRecorderTest {
    private final FakeKeyStore store = new FakeKeyStore();

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal); // IP literals only: no DNS
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private List<KeyStore.Usage> written() {
        return store.usageBatches.stream().flatMap(List::stream).toList();
    }

    @Test
    void manyUsesOfOneKey_becomeOneWrite_ofTheLatestTimeAndAddress() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t0 = Instant.parse("2030-05-01T12:00:00Z");
            for (int i = 0; i < 1000; i++) {
                r.record("key-a", t0.plusMillis(i), ip("127.0.0." + (i % 3 + 2)));
            }
            r.record("key-b", t0, ip("::1"));
            assertThat(store.writeAttempts.get()).as("nothing written while recording").isZero();
            r.flush();
            assertThat(store.usageBatches).hasSize(1);
            assertThat(store.usageBatches.get(0)).containsExactlyInAnyOrder(
                    new KeyStore.Usage("key-a", t0.plusMillis(999), "127.0.0.2"),
                    new KeyStore.Usage("key-b", t0, "0:0:0:0:0:0:0:1"));
            r.flush();
            assertThat(store.writeAttempts.get()).as("nothing new, nothing written").isEqualTo(1);
        }
    }

    @Test
    void usesInTheSameSecondFromTheSameAddress_areNotedOnce() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t = Instant.parse("2026-01-01T10:00:00.100Z");
            r.record("k1", t, ip("127.0.0.2"));
            r.record("k1", t.plusMillis(500), ip("127.0.0.2"));
            r.record("k1", t.plusMillis(800), ip("127.0.0.2"));
            r.flush();

            assertThat(written()).containsExactly(new KeyStore.Usage("k1", t, "127.0.0.2"));
        }
    }

    @Test
    void aLaterSecondOrAnotherAddress_replacesThePendingUse() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t = Instant.parse("2026-01-01T10:00:00.100Z");
            r.record("k1", t, ip("127.0.0.2"));
            r.record("k1", t.plusMillis(100), ip("127.0.0.3"));
            r.record("k2", t, ip("127.0.0.2"));
            r.record("k2", t.plusSeconds(1), ip("127.0.0.2"));
            r.flush();

            assertThat(written()).containsExactlyInAnyOrder(new KeyStore.Usage("k1", t.plusMillis(100), "127.0.0.3"),
                    new KeyStore.Usage("k2", t.plusSeconds(1), "127.0.0.2"));
        }
    }

    @Test
    void addressesAreWrittenNormalised() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t = Instant.parse("2026-01-01T10:00:00Z");
            r.record("k1", t, ip("::ffff:10.0.0.1"));
            r.flush();

            assertThat(written()).containsExactly(new KeyStore.Usage("k1", t, "10.0.0.1"));
        }
    }

    @Test
    void aFailedWrite_keepsTheUsesForTheNextFlush_unlessNewerOnesArrived() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t0 = Instant.parse("2030-05-01T12:00:00Z");
            r.record("a", t0, ip("127.0.0.2"));
            r.record("b", t0, ip("127.0.0.2"));
            store.failing.set(true);
            assertThatThrownBy(r::flush).hasMessageContaining("fake store down");
            r.record("b", t0.plusSeconds(1), ip("127.0.0.9"));
            store.failing.set(false);
            r.flush();
            assertThat(store.usageBatches.get(store.usageBatches.size() - 1)).containsExactlyInAnyOrder(
                    new KeyStore.Usage("a", t0, "127.0.0.2"), new KeyStore.Usage("b", t0.plusSeconds(1), "127.0.0.9"));
        }
    }
}
