package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Last use is remembered in memory and written in one batch per interval, never on the AUTH path. */
class UsageRecorderTest {
    private final FakeKeyStore store = new FakeKeyStore();

    @Test
    void manyUsesOfOneKey_becomeOneWrite_ofTheLatestTimeAndAddress() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t0 = Instant.parse("2030-05-01T12:00:00Z");
            for (int i = 0; i < 1000; i++) {
                r.record("key-a", t0.plusMillis(i), "127.0.0." + (i % 3 + 2));
            }
            r.record("key-b", t0, "::1");
            assertThat(store.writeAttempts.get()).as("nothing written while recording").isZero();
            r.flush();
            assertThat(store.usageBatches).hasSize(1);
            assertThat(store.usageBatches.get(0)).containsExactlyInAnyOrder(
                    new KeyStore.Usage("key-a", t0.plusMillis(999), "127.0.0.2"),
                    new KeyStore.Usage("key-b", t0, "::1"));
            r.flush();
            assertThat(store.writeAttempts.get()).as("nothing new, nothing written").isEqualTo(1);
        }
    }

    @Test
    void aFailedWrite_keepsTheUsesForTheNextFlush_unlessNewerOnesArrived() {
        try (UsageRecorder r = new UsageRecorder(store)) {
            Instant t0 = Instant.parse("2030-05-01T12:00:00Z");
            r.record("a", t0, "127.0.0.2");
            r.record("b", t0, "127.0.0.2");
            store.failing.set(true);
            assertThatThrownBy(r::flush).hasMessageContaining("fake store down");
            r.record("b", t0.plusSeconds(1), "127.0.0.9");
            store.failing.set(false);
            r.flush();
            assertThat(store.usageBatches.get(0)).containsExactlyInAnyOrder(new KeyStore.Usage("a", t0, "127.0.0.2"),
                    new KeyStore.Usage("b", t0.plusSeconds(1), "127.0.0.9"));
        }
    }
}
