package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.Haproxy;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * keyrelay behind a real HAProxy sending PROXY protocol v2 and v1 headers, clients on distinct loopback addresses:
 * allowlists, AUTH throttling, logs and the Received header see the real client, on the STARTTLS and the
 * implicit-TLS listener; peers outside {@code smtp.proxy_trusted} are refused, and so is a trusted peer that sends
 * no header.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HaproxyIT {
    @TempDir
    static Path dir;

    private ScriptedMta mta;
    private RelayHarness relay;
    private Haproxy haproxy;
    private CreatedKey pinned;

    @BeforeAll
    void start() {
        mta = new ScriptedMta();
        relay = RelayHarness.builder(dir.resolve("relay")).passthrough().implicitTls().downstreamPort(mta.port())
                .set(Setting.SMTP_PROXY_PROTOCOL, "any")
                .set(Setting.SMTP_PROXY_TRUSTED, "127.0.0.1")
                .set(Setting.LIMITS_AUTH_DELAY, "0")
                .start();
        haproxy = Haproxy.start(dir.resolve("haproxy"), List.of(
                new Haproxy.Route("v2", relay.smtpPort(), 2, true),
                new Haproxy.Route("v1", relay.smtpPort(), 1),
                new Haproxy.Route("tls", relay.implicitTlsPort(), 2)));
        pinned = relay.createKey(new KeySpec("pinned", Set.of(Grant.SMTP_INJECT), IpAllowlist.parseText("127.0.0.2"),
                null, null));
    }

    @AfterAll
    void stop() {
        haproxy.close();
        relay.close();
        mta.close();
    }

    private RawSmtpClient viaHaproxy(String route, String from) {
        RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", haproxy.port(route), from);
        c.expect(220);
        c.ehlo();
        c.startTls(relay.clientTls());
        c.ehlo();
        return c;
    }

    private static RawSmtpClient.Reply auth(RawSmtpClient c, String key) {
        return c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key));
    }

    private ScriptedMta.Received deliveredTo(String rcpt) {
        await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().stream().anyMatch(m -> m.to().contains(rcpt)));
        return mta.received().stream().filter(m -> m.to().contains(rcpt)).findFirst().orElseThrow();
    }

    @Test
    void throughV2AndV1_theAllowlistTheLogAndTheReceivedHeader_seeTheRealClient() {
        for (String route : List.of("v2", "v1")) {
            String rcpt = route + "@dest.test";
            try (LogCapture log = LogCapture.of("io.keyrelay.smtp");
                    RawSmtpClient c = viaHaproxy(route, "127.0.0.2")) {
                auth(c, pinned.secret()).assertCode(235);
                c.send("a@example.com", List.of(rcpt), "Subject: via haproxy\r\n\r\nhi\r\n".getBytes()).assertCode(250);
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> log.all().contains("client=127.0.0.2 key_id=" + pinned.key().id()));
            }
            String data = new String(deliveredTo(rcpt).data(), StandardCharsets.US_ASCII);
            assertThat(data).as(route).startsWith("Received: from client.test ([127.0.0.2])");
            try (RawSmtpClient c = viaHaproxy(route, "127.0.0.3")) {
                assertThat(auth(c, pinned.secret()).code()).as(route + ": the key is pinned to 127.0.0.2").isEqualTo(535);
            }
        }
    }

    @Test
    void implicitTlsBehindHaproxy_handshakesAfterTheHeader_andSeesTheRealClient() throws Exception {
        String rcpt = "implicit@dest.test";
        try (RawSmtpClient c = RawSmtpClient.connectTls("127.0.0.1", haproxy.port("tls"), relay.clientTls(),
                "127.0.0.2")) {
            c.expect(220);
            assertThat(((SSLSocket) c.socket()).getSession().getProtocol()).startsWith("TLSv1.");
            assertThat(c.ehlo().lines()).contains("AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
            auth(c, pinned.secret()).assertCode(235);
            c.send("a@example.com", List.of(rcpt), "Subject: implicit\r\n\r\nhi\r\n".getBytes()).assertCode(250);
        }
        assertThat(new String(deliveredTo(rcpt).data(), StandardCharsets.US_ASCII))
                .startsWith("Received: from client.test ([127.0.0.2])").contains("with ESMTPSA (TLSv1.3:");
    }

    @Test
    void throttling_countsTheRealClient_notTheProxy() {
        for (int i = 0; i < 4; i++) {
            try (RawSmtpClient c = viaHaproxy("v2", "127.0.0.4")) {
                auth(c, "0123456789abcdef0123456789abcdef0123456" + i).assertCode(535);
            }
        }
        try (RawSmtpClient c = viaHaproxy("v1", "127.0.0.4")) {
            auth(c, "0123456789abcdef0123456789abcdef01234569").assertCode(421);
        }
        try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", haproxy.port("v2"), "127.0.0.4")) {
            assertThat(c.read().assertCode(421).text()).startsWith("4.7.0");
        }
        try (RawSmtpClient c = viaHaproxy("v2", "127.0.0.2")) {
            assertThat(auth(c, pinned.secret()).code()).as("the proxy's own address is not refused").isEqualTo(235);
        }
    }

    @Test
    void aPeerOutsideProxyTrusted_isRefused_andATrustedPeerWithoutAHeaderToo() {
        double before = refused("untrusted_proxy");
        try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", relay.smtpPort(), "127.0.0.2")) {
            RawSmtpClient.Reply r = c.read().assertCode(554);
            assertThat(r.text()).isEqualTo("5.7.1 Connections to this port must come through a trusted proxy");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(refused("untrusted_proxy")).isEqualTo(before + 1);
        try (RawSmtpClient c = RawSmtpClient.connectTls("127.0.0.1", relay.implicitTlsPort(), relay.clientTls(),
                "127.0.0.2")) {
            throw new AssertionError("a TLS session was set up with an untrusted peer");
        } catch (java.io.UncheckedIOException expected) {
            // closed before the handshake
        }
        try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", relay.smtpPort(), "127.0.0.1")) {
            c.send("EHLO no-header.test");
            assertThat(c.read().assertCode(421).text()).isEqualTo("4.3.0 PROXY protocol header missing or invalid");
            assertThat(c.closedByServer()).isTrue();
        }
        // HAProxy's health checks (route v2 has them) connect and close without a header: not an error.
        try (LogCapture log = LogCapture.of("io.keyrelay.smtp")) {
            await().pollDelay(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> true);
            assertThat(log.all()).doesNotContain("no valid PROXY protocol");
        }
        try (RawSmtpClient c = viaHaproxy("v2", "127.0.0.5")) {
            c.command("NOOP").assertCode(250);
        }
    }

    private double refused(String reason) {
        var c = relay.runtime().registry().find("keyrelay.smtp.refused").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void theHeaderIsTheSourceOfTruth_anIpv6ClientNamedInAV1Header() {
        CreatedKey v6 = relay.createKey(new KeySpec("v6", Set.of(Grant.SMTP_INJECT), IpAllowlist.parseText("2001:db8::/32"),
                null, null));
        String rcpt = "ipv6@dest.test";
        try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", relay.smtpPort(), "127.0.0.1")) {
            c.write("PROXY TCP6 2001:db8::7 2001:db8::1 40000 587\r\n".getBytes(StandardCharsets.US_ASCII));
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            assertThat(auth(c, pinned.secret()).code()).as("pinned to 127.0.0.2").isEqualTo(535);
            assertThat(auth(c, v6.secret()).code()).as("pinned to 2001:db8::/32").isEqualTo(235);
            c.send("a@example.com", List.of(rcpt), "Subject: v6\r\n\r\nhi\r\n".getBytes()).assertCode(250);
        }
        assertThat(new String(deliveredTo(rcpt).data(), StandardCharsets.US_ASCII))
                .startsWith("Received: from client.test ([IPv6:2001:db8::7])");
    }
}
