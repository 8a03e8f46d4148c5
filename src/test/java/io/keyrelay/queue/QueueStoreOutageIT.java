package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store goes away while clients send in queue mode: the message is answered {@code 451 4.3.0} and nothing of it
 * is kept or delivered; when the store is back, the same session (and relay, never restarted) queues and delivers.
 */
class QueueStoreOutageIT {
    @TempDir
    Path dir;

    private static void pg(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(TestDatabases.adminUrl(), "postgres", "");
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void postgresDown_dataGets451AndNothingIsKept_thenItRecoversWithoutARestart() throws Exception {
        try (RelayHarness relay = RelayHarness.builder(dir).store(Kind.POSTGRES).start()) {
            CreatedKey key = relay.createKey("outage");
            String db = relay.db().dropName();
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
                pg("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
                try {
                    RawSmtpClient.Reply r = c.send("a@example.com", List.of("lost@dest.test"),
                            "Subject: during\r\n\r\nnot kept\r\n".getBytes());
                    assertThat(r.code()).isEqualTo(451);
                    assertThat(r.text()).startsWith("4.3.0 ");
                } finally {
                    pg("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
                }
            }
            // The pool finds the store again by itself (HikariCP backs off between tries): no restart.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                try (RawSmtpClient c = relay.authenticated(key.secret())) {
                    return c.send("a@example.com", List.of("kept@dest.test"),
                            "Subject: after\r\n\r\nkept\r\n".getBytes()).code() == 250;
                }
            });
            relay.greenMail().waitForIncomingEmail(15_000, 1);
            assertThat(relay.greenMail().getReceivedMessages()).hasSize(1);
            assertThat(relay.greenMail().getReceivedMessages()[0].getSubject()).isEqualTo("after");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> relay.runtime().queue().service().list(QueueFilter.all(10)).isEmpty());
        }
    }
}
