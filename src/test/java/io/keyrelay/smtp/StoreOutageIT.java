package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key store goes away: keys already cached keep working, others get a temporary failure (454, never 535), and
 * the relay recovers by itself when the store returns.
 */
class StoreOutageIT {
    @TempDir
    Path dir;

    private static int auth(RelayHarness relay, String key) {
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            return c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).code();
        }
    }

    private static void pg(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(TestDatabases.adminUrl(), "postgres", "");
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void postgresDown_cachedKeysWork_uncachedGet454_andItRecovers() throws Exception {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().store(Kind.POSTGRES).start()) {
            CreatedKey cached = relay.createKey("cached");
            CreatedKey cold = relay.createKey("cold");
            assertThat(auth(relay, cached.secret())).isEqualTo(235);
            String db = relay.db().dropName();
            pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
            pg("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
            try {
                assertThat(auth(relay, cached.secret())).isEqualTo(235);
                try (RawSmtpClient c = relay.authenticated(cached.secret())) {
                    c.send("a@example.com", List.of("r@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes())
                            .assertCode(250);
                }
                assertThat(auth(relay, cold.secret())).isEqualTo(454);
                assertThat(auth(relay, "0123456789abcdef0123456789abcdef01234567")).isEqualTo(454);
            } finally {
                pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> auth(relay, cold.secret()) == 235);
        }
    }

    /**
     * How long cached keys keep working is {@code cache.ttl} after their last successful load — the setting to
     * shorten when revocations must bite during an outage too. A temporary failure is never counted as a failed
     * AUTH: an outage does not get clients refused with 421.
     */
    @Test
    void duringAnOutage_cachedKeysWorkForCacheTtl_then454_andNoClientIsThrottled() throws Exception {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().store(Kind.POSTGRES)
                .set(Setting.CACHE_TTL, "3s").set(Setting.CACHE_REFRESH, "1s")
                .set(Setting.LIMITS_AUTH_FAILURES, "3").start()) {
            CreatedKey cached = relay.createKey("short-lived cache");
            assertThat(auth(relay, cached.secret())).isEqualTo(235);
            String db = relay.db().dropName();
            pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
            pg("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
            List<Integer> codes = new CopyOnWriteArrayList<>();
            try {
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    int code = auth(relay, cached.secret());
                    codes.add(code);
                    return code == 454;
                });
                for (int i = 0; i < 3; i++) { // as many as limits.auth_failures: were they counted, the last would be 421
                    codes.add(auth(relay, "0123456789abcdef0123456789abcdef0123456" + i));
                }
            } finally {
                pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
            }
            assertThat(codes).as("235 while cached, then 454; never 535 nor 421").containsOnly(235, 454);
            await().atMost(Duration.ofSeconds(15)).until(() -> auth(relay, cached.secret()) == 235);
        }
    }

    @Test
    void embeddedStoreGone_cachedKeysWork_uncachedGet454() {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().store(Kind.H2).start()) {
            CreatedKey cached = relay.createKey("cached");
            CreatedKey cold = relay.createKey("cold");
            assertThat(auth(relay, cached.secret())).isEqualTo(235);
            relay.runtime().database().hikari().close();
            assertThat(auth(relay, cached.secret())).isEqualTo(235);
            assertThat(auth(relay, cold.secret())).isEqualTo(454);
        }
    }
}
