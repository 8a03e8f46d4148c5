package io.keyrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downstream client's TLS and AUTH against a real SMTP server that offers them: a second keyrelay (STARTTLS,
 * implicit TLS, AUTH with an API key), which relays on to GreenMail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DownstreamTlsIT {
    @TempDir
    static Path dir;

    private RelayHarness inner;
    private CreatedKey innerKey;

    @BeforeAll
    void startInner() {
        inner = RelayHarness.builder(dir.resolve("inner")).passthrough().implicitTls().start();
        innerKey = inner.createKey("outer relay");
    }

    @AfterAll
    void stopInner() {
        inner.close();
    }

    private RelayHarness outer(String name, String tls, int port, String caFile, String verify, String password) {
        RelayHarness.Builder b = RelayHarness.builder(dir.resolve(name)).passthrough().downstreamPort(port)
                .set(Setting.DOWNSTREAM_HOST, "localhost")
                .set(Setting.DOWNSTREAM_TLS, tls)
                .set(Setting.DOWNSTREAM_TLS_VERIFY, verify)
                .set(Setting.DOWNSTREAM_USERNAME, "SMTP_Injection")
                .set(Setting.DOWNSTREAM_PASSWORD, password)
                .set(Setting.DOWNSTREAM_CONNECT_TIMEOUT, "3s");
        if (caFile != null) {
            b.set(Setting.DOWNSTREAM_CA_FILE, caFile);
        }
        return b.start();
    }

    private RawSmtpClient.Reply sendThrough(RelayHarness outer, String to) {
        CreatedKey k = outer.createKey("client");
        try (RawSmtpClient c = outer.authenticated(k.secret())) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            RawSmtpClient.Reply rcpt = c.command("RCPT TO:<" + to + ">");
            if (rcpt.code() != 250) {
                return rcpt;
            }
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff("Subject: chained\r\n\r\nthrough two relays\r\n".getBytes()));
            return c.read();
        }
    }

    private void assertArrived(String to) {
        await().atMost(Duration.ofSeconds(5)).until(() ->
                inner.greenMail().findReceivedMessages(u -> u.getEmail().equals(to), m -> true).count() == 1);
    }

    @Test
    void starttls_verifiedAgainstCaFile_withAuth_delivers() {
        try (RelayHarness outer = outer("starttls", "starttls", inner.smtpPort(), inner.certFile().toString(), "true",
                innerKey.secret())) {
            sendThrough(outer, "st@dest.test").assertCode(250);
            assertArrived("st@dest.test");
            assertThat(outer.runtime().downstream().describe()).contains("starttls").contains("auth as SMTP_Injection");
        }
    }

    @Test
    void implicitTls_verified_delivers() {
        try (RelayHarness outer = outer("implicit", "implicit", inner.implicitTlsPort(), inner.certFile().toString(),
                "true", innerKey.secret())) {
            sendThrough(outer, "imp@dest.test").assertCode(250);
            assertArrived("imp@dest.test");
        }
    }

    @Test
    void untrustedCertificate_isRefused_451_unlessVerificationIsTurnedOff() {
        try (RelayHarness outer = outer("untrusted", "starttls", inner.smtpPort(), null, "true", innerKey.secret())) {
            CreatedKey k = outer.createKey("client");
            try (RawSmtpClient c = outer.authenticated(k.secret())) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250); // the downstream is first asked at RCPT
                RawSmtpClient.Reply r = c.command("RCPT TO:<r@dest.test>");
                assertThat(r.code()).isEqualTo(451);
                assertThat(r.text()).startsWith("4.4.1");
            }
            assertThat(outer.runtime().registry().find("keyrelay.downstream.errors").tag("kind", "tls").counter()
                    .count()).isEqualTo(1);
        }
        try (RelayHarness outer = outer("unverified", "starttls", inner.smtpPort(), null, "false", innerKey.secret())) {
            sendThrough(outer, "nv@dest.test").assertCode(250);
            assertArrived("nv@dest.test");
            assertThat(outer.runtime().downstream().describe()).contains("certificate not verified");
        }
    }

    @Test
    void wrongDownstreamPassword_is451_andCountedAsAnAuthError() {
        try (RelayHarness outer = outer("badauth", "starttls", inner.smtpPort(), inner.certFile().toString(), "true",
                "0000000000000000000000000000000000000000")) {
            CreatedKey k = outer.createKey("client");
            try (RawSmtpClient c = outer.authenticated(k.secret())) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250); // the downstream is first asked at RCPT
                c.command("RCPT TO:<r@dest.test>").assertCode(451);
            }
            assertThat(outer.runtime().registry().find("keyrelay.downstream.errors").tag("kind", "auth").counter()
                    .count()).isEqualTo(1);
        }
    }

    @Test
    void plainDownstream_whenStarttlsIsRequired_isRefused() {
        // GreenMail offers no STARTTLS: with downstream.tls=starttls keyrelay must not fall back to plain text.
        try (RelayHarness outer = RelayHarness.builder(dir.resolve("nostarttls")).passthrough()
                .downstreamPort(inner.greenMail().getSmtp().getPort())
                .set(Setting.DOWNSTREAM_TLS, "starttls").start()) {
            CreatedKey k = outer.createKey("client");
            try (RawSmtpClient c = outer.authenticated(k.secret())) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250); // the downstream is first asked at RCPT
                c.command("RCPT TO:<r@dest.test>").assertCode(451);
            }
            assertThat(List.of(outer.runtime().registry().find("keyrelay.downstream.errors").tag("kind", "tls")
                    .counter().count())).containsExactly(1.0);
        }
    }
}
