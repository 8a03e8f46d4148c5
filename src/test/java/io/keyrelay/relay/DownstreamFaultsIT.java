package io.keyrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downstream fails at the worst moments: after taking the whole message but before its reply, by going silent
 * past {@code downstream.read_timeout}, or in the middle of the recipients. The client always gets a 4xx — never a
 * 250 for what the downstream did not confirm — keyrelay itself never sends a message twice, and the client's
 * retry is delivered exactly once.
 */
class DownstreamFaultsIT {
    @TempDir
    Path dir;

    private static final byte[] MESSAGE = "Subject: fault\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    private RelayHarness relay(ScriptedMta mta) {
        return RelayHarness.builder(dir).passthrough().downstreamPort(mta.port()).set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.DOWNSTREAM_READ_TIMEOUT, "1s").start();
    }

    private static RawSmtpClient authenticated(RelayHarness relay, CreatedKey key) {
        RawSmtpClient c = relay.connect();
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        return c;
    }

    private static void retryIsDeliveredOnce(ScriptedMta mta, RawSmtpClient c, String rcpt) {
        mta.afterData(ScriptedMta.AfterData.REPLY).dropAtRcpt(false);
        c.send("a@example.com", List.of(rcpt), MESSAGE).assertCode(250);
        await().atMost(Duration.ofSeconds(5)).until(() -> !mta.received().isEmpty());
        assertThat(mta.received()).singleElement().satisfies(m -> assertThat(m.to()).containsExactly(rcpt));
    }

    @Test
    void downstreamGoneAfterTheMessage_beforeItsReply_is451_andTheRetryArrivesOnce() {
        try (ScriptedMta mta = new ScriptedMta().afterData(ScriptedMta.AfterData.CLOSE); RelayHarness relay = relay(mta);
                RawSmtpClient c = authenticated(relay, relay.createKey("close"))) {
            RawSmtpClient.Reply r = c.send("a@example.com", List.of("x@dest.test"), MESSAGE);
            assertThat(r.code()).isEqualTo(451);
            assertThat(r.text()).isEqualTo("4.4.1 Downstream server unavailable; try again later");
            assertThat(mta.received()).isEmpty();
            retryIsDeliveredOnce(mta, c, "x@dest.test");
        }
    }

    @Test
    void downstreamSilentPastTheReadTimeout_is451_never250() {
        try (ScriptedMta mta = new ScriptedMta().afterData(ScriptedMta.AfterData.SILENT); RelayHarness relay = relay(mta);
                RawSmtpClient c = authenticated(relay, relay.createKey("silent"))) {
            RawSmtpClient.Reply r = c.send("a@example.com", List.of("y@dest.test"), MESSAGE);
            assertThat(r.code()).isEqualTo(451);
            assertThat(mta.received()).isEmpty();
            double timeouts = relay.runtime().registry().find("keyrelay.downstream.errors").tag("kind", "timeout")
                    .counter().count();
            assertThat(timeouts).isEqualTo(1);
            retryIsDeliveredOnce(mta, c, "y@dest.test");
        }
    }

    @Test
    void downstreamLostAmongTheRecipients_isAnswered451_andTheTransactionCannotComplete() {
        try (ScriptedMta mta = new ScriptedMta(); RelayHarness relay = relay(mta);
                RawSmtpClient c = authenticated(relay, relay.createKey("rcpt"))) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            c.command("RCPT TO:<first@dest.test>").assertCode(250);
            mta.dropAtRcpt(true);
            c.command("RCPT TO:<second@dest.test>").assertCode(451);
            mta.dropAtRcpt(false);
            c.command("RCPT TO:<third@dest.test>").assertCode(451);
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff(MESSAGE));
            assertThat(c.read().assertCode(451).text()).startsWith("4.4.1");
            assertThat(mta.received()).isEmpty();
            retryIsDeliveredOnce(mta, c, "first@dest.test");
        }
    }
}
