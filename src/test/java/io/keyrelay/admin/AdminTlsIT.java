package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.TestDatabases.Kind;
import io.keyrelay.tls.SelfSignedCertificate;
import io.keyrelay.tls.TlsContexts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** admin.tls: the admin server speaks HTTPS with the SMTP certificate, and the console's cookie becomes Secure. */
class AdminTlsIT {
    @TempDir
    Path dir;

    @Test
    void withAdminTls_theServerSpeaksHttpsWithTheSmtpCertificate_andCookiesAreSecure() throws Exception {
        Path cert = dir.resolve("tls/cert.pem");
        Path key = dir.resolve("tls/key.pem");
        SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(1));
        RelayConfig.Admin config = new RelayConfig.Admin(InetAddress.getLoopbackAddress(), 8080, Duration.ofMinutes(30),
                new RelayConfig.Tls(cert, key));
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir, config)) {
            assertThat(f.server.baseUri().getScheme()).isEqualTo("https");
            f.http = HttpClient.newBuilder().sslContext(TlsContexts.client(cert))
                    .followRedirects(HttpClient.Redirect.NEVER).build();

            HttpResponse<String> health = f.get("/healthz", null);
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.sslSession()).hasValueSatisfying(s -> assertThat(s.getProtocol()).isIn("TLSv1.3", "TLSv1.2"));
            assertThat(health.headers().firstValue("Strict-Transport-Security")).hasValue("max-age=31536000");

            String admin = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            HttpResponse<String> signIn = new ConsoleClient(f).signIn(admin);
            assertThat(signIn.statusCode()).isEqualTo(303);
            assertThat(signIn.headers().firstValue("Set-Cookie").orElseThrow()).containsIgnoringCase("; Secure");

            // Plain HTTP to the HTTPS port gets no answer a client could mistake for success.
            URI plain = URI.create("http://127.0.0.1:" + f.server.port() + "/healthz");
            HttpClient plainClient = HttpClient.newHttpClient();
            HttpRequest req = HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(10)).build();
            try {
                assertThat(plainClient.send(req, HttpResponse.BodyHandlers.ofString()).statusCode()).isNotEqualTo(200);
            } catch (IOException expected) {
                assertThat(expected).isNotNull();
            }
        }
    }
}
