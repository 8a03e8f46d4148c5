package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyService;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import io.keyrelay.testing.ScriptedMta;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real {@code keyrelay serve} process with sessions in every state: the one in the middle of DATA gets
 * its 250 and its message arrives exactly once, a transaction between MAIL and DATA finishes too, an idle session
 * is told 421 at once, the port stops accepting, and the process exits 0. And when the grace runs out, what was
 * cut off is not delivered and the exit code says so.
 */
class GracefulShutdownIT {
    @TempDir
    Path dir;

    private CreatedKey key() {
        try (Database db = Database.open(new RelayConfig.Db(null, "", "", 2), dir)) {
            db.migrate();
            return new KeyService(new JdbcKeyStore(db.dataSource()), KeyHasher.sha256(), new KeyGenerator(),
                    Clock.systemUTC()).create(new KeySpec("drain", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY,
                            null, null), Actor.CLI);
        }
    }

    private RelayProcess serve(ScriptedMta mta, int port, String grace) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "KEYRELAY_DATA_DIR", dir.toString(),
                "KEYRELAY_SMTP_LISTEN", "127.0.0.1",
                "KEYRELAY_SMTP_PORT", Integer.toString(port),
                "KEYRELAY_SMTP_AUTH_PLAINTEXT", "loopback",
                "KEYRELAY_SMTP_SHUTDOWN_GRACE", grace,
                "KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1",
                "KEYRELAY_DOWNSTREAM_PORT", Integer.toString(mta.port()),
                "KEYRELAY_DOWNSTREAM_TLS", "none",
                "KEYRELAY_ADMIN_PORT", "0",
                "KEYRELAY_RELAY_MODE", "passthrough")); // this test is about relaying during the transaction
        env.put("KEYRELAY_SENDING_DOMAINS_REQUIRE", "off"); // it sends from arbitrary domains
        RelayProcess relay = RelayProcess.start(dir, List.of(), env, "serve");
        relay.awaitLine(l -> l.contains("SMTP listening on 127.0.0.1:" + port), Duration.ofSeconds(60));
        return relay;
    }

    private static RawSmtpClient authenticated(int port, String key) {
        RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1");
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
        return c;
    }

    private static int exitCode(RelayProcess relay, Duration within) throws InterruptedException {
        assertThat(relay.process().waitFor(within.toMillis(), TimeUnit.MILLISECONDS))
                .as("exited within %s; stderr=%s", within, relay.stderr()).isTrue();
        return relay.process().exitValue();
    }

    @Test
    void sigterm_midTransaction_theClientGetsIts250_theMessageArrivesOnce_andTheExitCodeIs0() throws Exception {
        CreatedKey key = key();
        int port = FreePorts.pick();
        try (ScriptedMta mta = new ScriptedMta(); RelayProcess relay = serve(mta, port, "20s");
                RawSmtpClient inData = authenticated(port, key.secret());
                RawSmtpClient beforeData = authenticated(port, key.secret());
                RawSmtpClient idle = authenticated(port, key.secret())) {
            inData.command("MAIL FROM:<a@example.com>").assertCode(250);
            inData.command("RCPT TO:<in-data@dest.test>").assertCode(250);
            inData.command("DATA").assertCode(354);
            inData.write("Subject: in flight\r\n\r\nfirst half\r\n".getBytes(StandardCharsets.US_ASCII));
            beforeData.command("MAIL FROM:<b@example.com>").assertCode(250);
            beforeData.command("RCPT TO:<before-data@dest.test>").assertCode(250);

            relay.sigterm();
            relay.awaitLine(l -> l.contains("SMTP stopped accepting"), Duration.ofSeconds(20));

            RawSmtpClient.Reply goodbye = idle.read().assertCode(421);
            assertThat(goodbye.text()).isEqualTo("4.3.2 Service shutting down; try again later");
            assertThat(idle.closedByServer()).isTrue();
            assertThatThrownBy(() -> RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1"))
                    .as("the port no longer accepts").isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(ConnectException.class);

            inData.write("second half\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            RawSmtpClient.Reply done = inData.read().assertCode(250);
            assertThat(done.text()).contains("queued as SCRIPTED");
            assertThat(inData.read().assertCode(421).text()).startsWith("4.3.2");
            assertThat(inData.closedByServer()).isTrue();

            beforeData.command("RCPT TO:<also@dest.test>").assertCode(250);
            beforeData.command("DATA").assertCode(354);
            beforeData.write(RawSmtpClient.stuff("Subject: finished during the drain\r\n\r\nok\r\n".getBytes()));
            beforeData.read().assertCode(250);
            assertThat(beforeData.read().assertCode(421).text()).startsWith("4.3.2");

            assertThat(exitCode(relay, Duration.ofSeconds(20))).isZero();
            assertThat(mta.received()).hasSize(2);
            assertThat(mta.received()).filteredOn(m -> m.to().equals(List.of("in-data@dest.test"))).singleElement()
                    .satisfies(m -> assertThat(new String(m.data(), StandardCharsets.US_ASCII))
                            .endsWith("Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n"));
            assertThat(mta.received()).filteredOn(m -> m.to().equals(List.of("before-data@dest.test", "also@dest.test")))
                    .hasSize(1);
            relay.awaitLine(l -> l.contains("keyrelay stopped"), Duration.ofSeconds(10)); // the output pipe drains last
            assertThat(String.join("\n", relay.stderr())).contains("SMTP sessions all finished")
                    .doesNotContain("cut off").doesNotContain(key.secret());
        }
    }

    @Test
    void whenTheGraceRunsOut_theStalledMessageIsNotDelivered_andTheExitCodeIs1() throws Exception {
        CreatedKey key = key();
        int port = FreePorts.pick();
        try (ScriptedMta mta = new ScriptedMta(); RelayProcess relay = serve(mta, port, "2s");
                RawSmtpClient stalled = authenticated(port, key.secret())) {
            stalled.command("MAIL FROM:<a@example.com>").assertCode(250);
            stalled.command("RCPT TO:<stalled@dest.test>").assertCode(250);
            stalled.command("DATA").assertCode(354);
            stalled.write("Subject: never finished\r\n\r\npart".getBytes(StandardCharsets.US_ASCII));

            relay.sigterm();
            assertThat(exitCode(relay, Duration.ofSeconds(30))).isEqualTo(1);
            assertThat(stalled.closedByServer()).isTrue();
            assertThat(mta.received()).isEmpty();
            relay.awaitLine(l -> l.contains("shutdown grace (2s) is over; closing 1 sessions still open"),
                    Duration.ofSeconds(10));
            relay.awaitLine(l -> l.contains("keyrelay stopped (some sessions were cut off)"), Duration.ofSeconds(10));
        }
    }
}
