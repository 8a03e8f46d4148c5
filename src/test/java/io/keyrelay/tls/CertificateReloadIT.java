package io.keyrelay.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certbot-style renewal under a running relay: the {@code live/} symlinks are swapped to new {@code archive/}
 * files, and new STARTTLS, implicit-TLS and admin HTTPS connections get the new certificate within a reload
 * interval, while a session that was open goes on. A broken file that follows is logged, and the certificate in
 * service stays.
 */
class CertificateReloadIT {
    @TempDir
    Path dir;

    private X509Certificate archive(int n) {
        Path cert = dir.resolve("archive/cert" + n + ".pem");
        SelfSignedCertificate.write(cert, dir.resolve("archive/key" + n + ".pem"), List.of(), Duration.ofDays(n));
        return TlsContexts.readCertificates(cert).get(0);
    }

    private void point(String live, String target) throws Exception {
        Path link = dir.resolve("live/" + live);
        Files.createDirectories(link.getParent());
        Path tmp = dir.resolve("live/." + live + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, dir.resolve("archive/" + target));
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A fresh client context (no TLS session to resume) trusting both certificates. */
    private SSLContext trustBoth() {
        return TlsContexts.client(dir.resolve("both.pem"));
    }

    private Certificate startTlsCertificate(RelayHarness relay) {
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(trustBoth());
            return peer(c);
        }
    }

    private Certificate implicitTlsCertificate(RelayHarness relay) {
        try (RawSmtpClient c = RawSmtpClient.connectTls("127.0.0.1", relay.implicitTlsPort(), trustBoth())) {
            c.expect(220);
            return peer(c);
        }
    }

    private Certificate adminCertificate(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(trustBoth()).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/healthz"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.sslSession().orElseThrow().getPeerCertificates()[0];
    }

    private static Certificate peer(RawSmtpClient c) {
        try {
            return ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void renewedCertificate_isServedOnEveryTlsListener_withoutARestart_andABrokenOneIsIgnored() throws Exception {
        X509Certificate first = archive(1);
        X509Certificate second = archive(2);
        Files.writeString(dir.resolve("both.pem"), Files.readString(dir.resolve("archive/cert1.pem"))
                + Files.readString(dir.resolve("archive/cert2.pem")));
        point("cert.pem", "cert1.pem");
        point("key.pem", "key1.pem");
        int adminPort = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).passthrough().implicitTls()
                .set(Setting.SMTP_TLS_CERT, dir.resolve("live/cert.pem").toString())
                .set(Setting.SMTP_TLS_KEY, dir.resolve("live/key.pem").toString())
                .set(Setting.SMTP_TLS_RELOAD_INTERVAL, "200ms")
                .set(Setting.ADMIN_PORT, Integer.toString(adminPort)).set(Setting.ADMIN_TLS, "true")
                .start();
                LogCapture log = LogCapture.of("io.keyrelay.tls")) {
            CreatedKey key = relay.createKey("renewal");
            assertThat(startTlsCertificate(relay)).isEqualTo(first);
            assertThat(implicitTlsCertificate(relay)).isEqualTo(first);
            assertThat(adminCertificate(adminPort)).isEqualTo(first);

            try (RawSmtpClient open = relay.connect()) {
                open.expect(220);
                open.ehlo();
                open.startTls(trustBoth());
                open.ehlo();
                open.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);

                point("cert.pem", "cert2.pem");
                point("key.pem", "key2.pem");
                await().atMost(Duration.ofSeconds(10)).until(() -> startTlsCertificate(relay).equals(second));
                assertThat(implicitTlsCertificate(relay)).isEqualTo(second);
                assertThat(adminCertificate(adminPort)).isEqualTo(second);
                assertThat(log.all()).contains("TLS certificate reloaded from " + dir.resolve("live/cert.pem"));

                assertThat(peer(open)).as("an open session keeps its certificate").isEqualTo(first);
                open.send("a@example.com", List.of("renewal@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes())
                        .assertCode(250);
            }
            double expiry = relay.runtime().registry().find("keyrelay.tls.certificate.expiry").gauge().value();
            assertThat((long) expiry).isEqualTo(second.getNotAfter().toInstant().getEpochSecond());

            Files.writeString(dir.resolve("archive/cert3.pem"), "-----BEGIN CERTIFICATE-----\ntruncated");
            point("cert.pem", "cert3.pem");
            await().atMost(Duration.ofSeconds(10)).until(() -> log.all().contains("cannot be used"));
            assertThat(log.all()).contains("still serving");
            assertThat(startTlsCertificate(relay)).isEqualTo(second);
            assertThat(implicitTlsCertificate(relay)).isEqualTo(second);
            assertThat(adminCertificate(adminPort)).isEqualTo(second);
        }
    }
}
