package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The queue API in a whole relay (queue mode, a scripted downstream): a message the downstream defers shows as
 * deferred with the downstream's reply, and a retry through the API delivers it at once — the serving node's
 * workers are woken, not left to a poll that is an hour away.
 */
class QueueAdminRelayIT {
    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9a-f-]{36})");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void apiRetry_ofADeferredMessage_deliversItAtOnce(Kind kind) throws Exception {
        int adminPort = FreePorts.pick();
        try (ScriptedMta mta = new ScriptedMta().rcptReply("later@example.net", "451 4.2.0 Try again later");
                RelayHarness relay = RelayHarness.builder(dir).store(kind).downstreamPort(mta.port())
                        .set(Setting.ADMIN_PORT, Integer.toString(adminPort))
                        .set(Setting.QUEUE_POLL_INTERVAL, "1h").start()) {
            CreatedKey key = relay.createKey("app", Grant.SMTP_INJECT, Grant.QUEUE_MANAGE);
            String id;
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                Matcher m = QUEUED.matcher(c.send("app@example.com", List.of("later@example.net"),
                        "Subject: t\r\n\r\nhi\r\n".getBytes(StandardCharsets.US_ASCII)).toString());
                assertThat(m.find()).isTrue();
                id = m.group(1);
            }
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + adminPort + "/api/v1/queue/");
            HttpRequest get = HttpRequest.newBuilder(base.resolve(id)).header("Authorization", key.secret()).build();
            await().atMost(Duration.ofSeconds(15)).until(() -> JSON.readTree(http.send(get,
                    HttpResponse.BodyHandlers.ofString()).body()).at("/results/state").asText().equals("deferred"));
            JsonNode deferred = JSON.readTree(http.send(get, HttpResponse.BodyHandlers.ofString()).body());
            assertThat(deferred.at("/results/recipients/0/last_reply").asText())
                    .isEqualTo("451 4.2.0 Try again later");
            assertThat(mta.received()).isEmpty();

            mta.rcptReply("later@example.net", "250 2.1.5 Ok");
            HttpResponse<String> retried = http.send(HttpRequest.newBuilder(base.resolve(id + "/retry"))
                    .header("Authorization", key.secret()).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(15)).until(() -> mta.received().size() == 1);
            await().atMost(Duration.ofSeconds(15)).until(() -> http.send(get,
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 404);
            assertThat(mta.received().getFirst().to()).containsExactly("later@example.net");
        }
    }
}
