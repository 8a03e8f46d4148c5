package io.keyrelay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.cli.Main;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.tls.SelfSignedCertificate;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code keyrelay bench} run through the CLI against a real relay (relaying to a {@link ScriptedMta} that keeps
 * every message's bytes), and against servers that misbehave.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BenchIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private ScriptedMta mta;
    private RelayHarness relay;
    private CreatedKey key;

    @BeforeAll
    void start() {
        mta = new ScriptedMta();
        relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port()).implicitTls()
                .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_SESSIONS_PER_KEY, "0") // one key, more sessions than the default allows it
                .start();
        key = relay.createKey("bench");
    }

    @AfterAll
    void stop() {
        relay.close();
        mta.close();
    }

    private record Run(int exit, String out, String err) {
        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + out + err, e);
            }
        }
    }

    private static Run bench(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("bench"));
        all.addAll(List.of(args));
        int code = Main.run(all.toArray(String[]::new), Map.of(), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private String port() {
        return Integer.toString(relay.smtpPort());
    }

    @Test
    void bench_withStartTls_relaysEveryMessageAndReportsRateAndLatencies() {
        int before = mta.received().size();
        Run r = bench("--port", port(), "--key", key.secret(), "--starttls", "--connections", "4", "--messages", "5",
                "--size", "3000", "--recipients", "2", "--json");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("messages_ok").asLong()).isEqualTo(20);
        assertThat(j.get("messages_planned").asLong()).isEqualTo(20);
        assertThat(j.get("errors").get("total").asLong()).isZero();
        assertThat(j.get("tls").asText()).isEqualTo("starttls");
        assertThat(j.get("tls_provider").asText()).isEqualTo("jdk");
        assertThat(j.get("tls_session").asText()).startsWith("SunJSSE ").contains("TLSv1.3");
        assertThat(j.get("auth_ms").get("count").asLong()).isEqualTo(4);
        assertThat(j.get("message_ms").get("count").asLong()).isEqualTo(20);
        assertThat(j.get("messages_per_second").asDouble()).isPositive();
        assertThat(j.get("message_ms").get("p99").asDouble())
                .isGreaterThanOrEqualTo(j.get("message_ms").get("p50").asDouble())
                .isLessThanOrEqualTo(j.get("message_ms").get("max").asDouble());
        assertThat(j.get("clean").asBoolean()).isTrue();

        List<ScriptedMta.Received> got = mta.received().subList(before, mta.received().size());
        assertThat(got).hasSize(20);
        for (ScriptedMta.Received m : got) {
            assertThat(m.to()).containsExactly("rcpt1@example.com", "rcpt2@example.com");
            String data = new String(m.data(), StandardCharsets.US_ASCII);
            // keyrelay's Received header on top, then exactly the generator's 3000 bytes
            int body = data.indexOf("From: <bench@example.com>");
            assertThat(data).startsWith("Received: ");
            assertThat(m.data().length - body).isEqualTo(3000);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--starttls", "--tls"})
    void bench_withConscryptClient_relaysEveryMessageOverBoringSslAndSaysSo(String tlsOption) {
        int before = mta.received().size();
        String port = tlsOption.equals("--tls") ? Integer.toString(relay.implicitTlsPort()) : port();
        Run r = bench("--port", port, "--key", key.secret(), tlsOption, "--tls-provider", "conscrypt",
                "--connections", "3", "--messages", "4", "--size", "5000", "--json");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("messages_ok").asLong()).isEqualTo(12);
        assertThat(j.get("errors").get("total").asLong()).isZero();
        assertThat(j.get("tls").asText()).isEqualTo(tlsOption.equals("--tls") ? "implicit" : "starttls");
        assertThat(j.get("tls_provider").asText()).isEqualTo("conscrypt");
        // the context's provider is Conscrypt's, and the session it negotiated with the relay is TLS 1.3
        assertThat(j.get("tls_session").asText()).startsWith("Conscrypt ").contains("TLSv1.3 TLS_");
        List<ScriptedMta.Received> got = mta.received().subList(before, mta.received().size());
        assertThat(got).hasSize(12);
        for (ScriptedMta.Received m : got) {
            String data = new String(m.data(), StandardCharsets.US_ASCII);
            assertThat(m.data().length - data.indexOf("From: <bench@example.com>")).isEqualTo(5000);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdk", "conscrypt"})
    void bench_caFile_acceptsTheRelaysCertificateAndRefusesAnother(String provider) {
        Run trusted = bench("--port", port(), "--key", key.secret(), "--starttls", "--tls-provider", provider,
                "--ca-file", relay.certFile().toString(), "--connections", "1", "--messages", "2", "--json");
        assertThat(trusted.exit()).as(trusted.out() + trusted.err()).isZero();
        assertThat(trusted.json().get("messages_ok").asLong()).isEqualTo(2);

        Path otherCert = dir.resolve("other-" + provider + "/cert.pem");
        SelfSignedCertificate.write(otherCert, dir.resolve("other-" + provider + "/key.pem"), List.of(),
                Duration.ofDays(1));
        Run refused = bench("--port", port(), "--key", key.secret(), "--starttls", "--tls-provider", provider,
                "--ca-file", otherCert.toString(), "--connections", "1", "--messages", "2", "--json");
        assertThat(refused.exit()).isEqualTo(1);
        JsonNode j = refused.json();
        assertThat(j.get("messages_ok").asLong()).isZero();
        assertThat(j.get("errors").get("by_step").get("STARTTLS").asLong()).isEqualTo(1);
    }

    @Test
    void bench_withConscryptClient_textReportNamesTheTlsSession() {
        Run r = bench("--port", port(), "--key", key.secret(), "--starttls", "--tls-provider", "CONSCRYPT",
                "--connections", "1", "--messages", "1");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).containsPattern("tls +Conscrypt [0-9]+\\.[0-9]+\\.[0-9]+, TLSv1.3 TLS_");
    }

    @Test
    void bench_unknownTlsProvider_exits2NamingTheOptionAndTheChoices() {
        Run r = bench("--port", port(), "--starttls", "--tls-provider", "openssl", "--messages", "1");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--tls-provider: openssl is not a TLS provider (jdk, conscrypt)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void bench_sessionsBeyondConnections_churnsConnectionsAndAuthenticatesEachSession() {
        Run r = bench("--port", port(), "--key", key.secret(), "--connections", "3", "--sessions", "9",
                "--messages", "2", "--warmup-sessions", "3", "--json");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("sessions_ok").asLong()).isEqualTo(9);
        assertThat(j.get("auth_ms").get("count").asLong()).isEqualTo(9);
        assertThat(j.get("messages_ok").asLong()).isEqualTo(18);
        assertThat(j.get("warmup_messages_ok").asLong()).isEqualTo(6);
    }

    @Test
    void bench_idleSessions_areHeldOpenAuthenticatedAndStillAnswerAtTheEnd() {
        Run r = bench("--port", port(), "--key", key.secret(), "--connections", "2", "--messages", "3",
                "--idle-sessions", "30", "--json");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("idle_opened").asInt()).isEqualTo(30);
        assertThat(j.get("idle_alive_at_end").asInt()).isEqualTo(30);
        assertThat(j.get("auth_ms").get("count").asLong()).isEqualTo(2); // idle sessions' AUTHs are not measured
    }

    @Test
    void bench_withWrongKey_exits1AndReportsTheRefusalsWithTheFirstReply() {
        Run r = bench("--port", port(), "--key", "0".repeat(40), "--connections", "2", "--messages", "3", "--json");

        assertThat(r.exit()).isEqualTo(1);
        JsonNode j = r.json();
        assertThat(j.get("messages_ok").asLong()).isZero();
        assertThat(j.get("errors").get("by_step").get("AUTH").asLong()).isEqualTo(2);
        assertThat(j.get("errors").get("first").get(0).asText()).isEqualTo("AUTH: 535 5.7.8 Authentication credentials invalid");
        assertThat(j.get("clean").asBoolean()).isFalse();
    }

    @Test
    void bench_textReport_namesRateLatenciesAndErrors() {
        Run r = bench("--port", port(), "--key", key.secret(), "--connections", "1", "--messages", "2");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("2 ok, 0 failed, of 2 planned").contains("messages/s").contains("message ms    p50")
                .contains("AUTH ms").contains("errors        0");
        assertThat(r.out()).doesNotContain(key.secret());
    }

    @Test
    void bench_keyFile_keepsTheKeyOffTheCommandLine() throws IOException {
        Path f = dir.resolve("bench.key");
        Files.writeString(f, key.secret() + "\n");

        Run r = bench("--port", port(), "--key-file", f.toString(), "--connections", "1", "--messages", "1", "--json");

        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.json().get("messages_ok").asLong()).isEqualTo(1);
    }

    @Test
    void bench_nonLoopbackTarget_isRefusedBeforeAnyConnection() {
        Run r = bench("--host", "192.0.2.1", "--port", "25", "--messages", "1");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--host: 192.0.2.1 is 192.0.2.1, not a loopback address").contains("--allow-remote");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void bench_badOption_exits2NamingIt() {
        Run r = bench("--port", port(), "--size", "12", "--messages", "1");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--size: must be at least 256 bytes");
    }

    @Test
    void bench_serverThatNeverAnswers_stopsAtTheTimeoutAndSaysSo() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // and never say a word
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            long t0 = System.nanoTime();
            Run r = bench("--port", Integer.toString(silent.getLocalPort()), "--connections", "2", "--messages", "1",
                    "--timeout", "1s", "--json");
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(r.exit()).isEqualTo(1);
            JsonNode j = r.json();
            assertThat(j.get("timed_out").asBoolean()).isTrue();
            assertThat(j.get("messages_ok").asLong()).isZero();
            assertThat(j.get("errors").get("total").asLong()).isZero(); // closed by the deadline: not the server's fault
            assertThat(took).isLessThan(Duration.ofSeconds(30));
            silent.close();
            acceptor.interrupt();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
