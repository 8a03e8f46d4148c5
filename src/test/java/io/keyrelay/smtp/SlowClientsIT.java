package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stall, hog connections or vanish: the idle timeout closes them (also in the middle of DATA), the
 * session limit answers 421, and a message whose client is gone before its end is never relayed — while the relay
 * goes on serving others.
 */
class SlowClientsIT {
    @TempDir
    Path dir;

    private static final byte[] PARTIAL = "Subject: half\r\n\r\nthe first half of a message\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private static RawSmtpClient authenticated(RelayHarness relay, CreatedKey key) {
        RawSmtpClient c = relay.connect();
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        return c;
    }

    private static void sendsNormally(RelayHarness relay, CreatedKey key, ScriptedMta mta, String rcpt) {
        try (RawSmtpClient c = authenticated(relay, key)) {
            c.send("a@example.com", List.of(rcpt), "Subject: ok\r\n\r\nok\r\n".getBytes()).assertCode(250);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().stream().anyMatch(m -> m.to().contains(rcpt)));
    }

    @Test
    void anIdleClient_andOneStalledMidData_areClosedByTheIdleTimeout_andNothingIsRelayed() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_IDLE_TIMEOUT, "1s").start();
                LogCapture log = LogCapture.of("io.keyrelay.smtp")) {
            CreatedKey key = relay.createKey("slow");
            try (RawSmtpClient idle = relay.connect()) {
                idle.expect(220);
                RawSmtpClient.Reply r = idle.read().assertCode(421); // sent by the relay after a second of silence
                assertThat(r.text()).isEqualTo("Timeout waiting for data from client.");
                assertThat(idle.closedByServer()).isTrue();
            }
            try (RawSmtpClient stalled = authenticated(relay, key)) {
                stalled.command("MAIL FROM:<a@example.com>").assertCode(250);
                stalled.command("RCPT TO:<stalled@dest.test>").assertCode(250);
                stalled.command("DATA").assertCode(354);
                stalled.write(PARTIAL);
                stalled.read().assertCode(421);
                assertThat(stalled.closedByServer()).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> log.all().contains("result=aborted"));
            assertThat(mta.received()).noneMatch(m -> m.to().contains("stalled@dest.test"));
            sendsNormally(relay, key, mta, "after-timeouts@dest.test");
        }
    }

    @Test
    void idleTimeout_closesSessionsOverStartTls_andOnTheImplicitTlsPort_andNotOnesThatKeepTalking() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port()).implicitTls()
                        .set(Setting.SMTP_IDLE_TIMEOUT, "1s").start()) {
            CreatedKey key = relay.createKey("tls-idle");
            long t0 = System.nanoTime();
            try (RawSmtpClient tls = relay.connect()) {
                tls.expect(220);
                tls.ehlo();
                tls.startTls(relay.clientTls());
                tls.ehlo();
                // the 421 arrives inside TLS, from the watchdog-timed plain socket under it
                RawSmtpClient.Reply r = tls.read().assertCode(421);
                assertThat(r.text()).isEqualTo("Timeout waiting for data from client.");
                assertThat(tls.closedByServer()).isTrue();
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
            try (RawSmtpClient implicit = RawSmtpClient.connectTls("127.0.0.1", relay.implicitTlsPort(), relay.clientTls())) {
                implicit.expect(220);
                implicit.read().assertCode(421); // the watchdog times the implicit-TLS listener too
                assertThat(implicit.closedByServer()).isTrue();
            }
            try (RawSmtpClient talker = relay.authenticated(key.secret())) {
                for (int i = 0; i < 6; i++) { // 3 s in all: the timeout is per wait, not per session
                    sleep(500);
                    talker.command("NOOP").assertCode(250);
                }
                talker.send("a@example.com", List.of("talker@dest.test"), "Subject: t\r\n\r\nt\r\n".getBytes())
                        .assertCode(250);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void moreThanMaxConnections_get421_andASlotFreedIsUsableAgain() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_MAX_CONNECTIONS, "3").start()) {
            CreatedKey key = relay.createKey("hog");
            List<RawSmtpClient> hogs = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawSmtpClient c = relay.connect();
                    c.expect(220);
                    hogs.add(c);
                }
                try (RawSmtpClient fourth = relay.connect()) {
                    assertThat(fourth.read().assertCode(421).text()).isEqualTo("Too many connections, try again later");
                    assertThat(fourth.closedByServer()).isTrue();
                }
                hogs.remove(0).close();
                await().atMost(Duration.ofSeconds(5)).until(() -> relay.runtime().metrics().activeSessions() == 2);
                sendsNormally(relay, key, mta, "after-hogs@dest.test");
            } finally {
                hogs.forEach(RawSmtpClient::close);
            }
        }
    }

    @Test
    void aClientThatDropsMidData_causesNothingToBeRelayed() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").start();
                LogCapture log = LogCapture.of("")) {
            CreatedKey key = relay.createKey("dropper");
            RawSmtpClient dropper = authenticated(relay, key);
            dropper.command("MAIL FROM:<a@example.com>").assertCode(250);
            dropper.command("RCPT TO:<dropped@dest.test>").assertCode(250);
            dropper.command("DATA").assertCode(354);
            dropper.write(PARTIAL);
            dropper.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> log.all().contains("result=aborted"));
            assertThat(log.all()).contains("rcpts=1")
                    .as("a client hanging up is not an error worth a stack trace")
                    .doesNotContain("Exception during SMTP transaction");
            // The downstream connection that carried the partial message was dropped, not reused.
            sendsNormally(relay, key, mta, "after-drop@dest.test");
            assertThat(mta.received()).noneMatch(m -> m.to().contains("dropped@dest.test"));
            assertThat(mta.received()).noneMatch(m -> new String(m.data(), StandardCharsets.US_ASCII)
                    .contains("the first half of a message"));
        }
    }
}
