package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.KeyLookup;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A warm AUTH makes no database query: the first AUTH with a key reads it from the store once, and every AUTH after
 * that is answered from the key cache, as {@link KeyLookup#storeReads()} and {@code keyrelay_key_store_reads_total}
 * show (on H2 and on PostgreSQL).
 */
class WarmAuthIT {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void warmAuth_readsNothingFromTheStore(Kind kind) {
        try (RelayHarness relay = RelayHarness.builder(dir.resolve(kind.name())).passthrough().store(kind).start()) {
            CreatedKey key = relay.createKey("warm");
            KeyLookup lookup = relay.runtime().keyLookup();
            long before = lookup.storeReads();

            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.command("QUIT");
            }
            long afterFirst = lookup.storeReads();
            long hitsAfterFirst = lookup.stats().hitCount();
            for (int i = 0; i < 25; i++) {
                try (RawSmtpClient c = relay.authenticated(key.secret())) {
                    c.command("QUIT");
                }
            }

            assertThat(afterFirst - before).as("the cold AUTH loads the key once").isEqualTo(1);
            assertThat(lookup.storeReads()).as("25 warm AUTHs read nothing").isEqualTo(afterFirst);
            assertThat(lookup.stats().hitCount() - hitsAfterFirst).isEqualTo(25);
            assertThat(io.keyrelay.testing.Scrapes.withoutNode(relay.runtime().registry().scrape(),
                relay.config().cluster().nodeName()))
                    .contains("keyrelay_key_store_reads_total " + (double) afterFirst);
        }
    }
}
