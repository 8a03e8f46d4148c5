package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

class UsageRecorderTest {
    private final List<KeyStore.Usage> written = new ArrayList<>();
    private boolean failWrites;

    /** A store whose only working method is recordUsage. */
    @SuppressWarnings("unchecked")
    private final KeyStore store = (KeyStore) Proxy.newProxyInstance(KeyStore.class.getClassLoader(),
            new Class<?>[] {KeyStore.class}, (proxy, method, args) -> {
                if (method.getName().equals("recordUsage")) {
                    if (failWrites) {
                        throw new IllegalStateException("store down");
                    }
                    written.addAll((Collection<KeyStore.Usage>) args[0]);
                    return null;
                }
                throw new UnsupportedOperationException(method.getName());
            });

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal); // literals only: no DNS
    }

    @Test
    void usesInTheSameSecondFromTheSameAddress_areWrittenOnce() throws Exception {
        UsageRecorder r = new UsageRecorder(store);
        Instant t = Instant.parse("2026-01-01T10:00:00.100Z");
        r.record("k1", t, ip("127.0.0.2"));
        r.record("k1", t.plusMillis(500), ip("127.0.0.2"));
        r.record("k1", t.plusMillis(800), ip("127.0.0.2"));
        r.flush();

        assertThat(written).containsExactly(new KeyStore.Usage("k1", t, "127.0.0.2"));
        r.close();
    }

    @Test
    void aLaterSecondOrAnotherAddress_replacesThePendingUse() throws Exception {
        UsageRecorder r = new UsageRecorder(store);
        Instant t = Instant.parse("2026-01-01T10:00:00.100Z");
        r.record("k1", t, ip("127.0.0.2"));
        r.record("k1", t.plusMillis(100), ip("127.0.0.3"));
        r.record("k2", t, ip("127.0.0.2"));
        r.record("k2", t.plusSeconds(1), ip("127.0.0.2"));
        r.flush();

        assertThat(written).containsExactlyInAnyOrder(new KeyStore.Usage("k1", t.plusMillis(100), "127.0.0.3"),
                new KeyStore.Usage("k2", t.plusSeconds(1), "127.0.0.2"));
        r.close();
    }

    @Test
    void addressesAreWrittenNormalised() throws Exception {
        UsageRecorder r = new UsageRecorder(store);
        Instant t = Instant.parse("2026-01-01T10:00:00Z");
        r.record("k1", t, ip("::ffff:10.0.0.1"));
        r.flush();

        assertThat(written).containsExactly(new KeyStore.Usage("k1", t, "10.0.0.1"));
        r.close();
    }

    @Test
    void aFailedWrite_keepsTheUseForTheNextFlush() throws Exception {
        UsageRecorder r = new UsageRecorder(store);
        Instant t = Instant.parse("2026-01-01T10:00:00Z");
        r.record("k1", t, ip("127.0.0.2"));
        failWrites = true;
        assertThatThrownBy(r::flush).hasMessage("store down");
        failWrites = false;
        r.flush();

        assertThat(written).containsExactly(new KeyStore.Usage("k1", t, "127.0.0.2"));
        r.close();
    }
}
