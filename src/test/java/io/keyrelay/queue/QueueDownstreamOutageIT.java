package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.ProcessRun;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The downstream is down for a while under a real {@code keyrelay serve} process, on H2 and PostgreSQL: messages
 * accepted at distinct times are answered 250 and deferred (the CLI's {@code queue list --json} says so, from
 * another process), {@code /readyz} stays ready, and once the downstream is back they are all delivered — each
 * once, oldest first — without a restart of keyrelay.
 *
 * <p>One worker, so that the order of claims is the order of arrival at the sink (several workers deliver the
 * oldest due messages side by side, and those may overtake each other); and a poll interval longer than the longest
 * retry wait, so that each poll finds the whole backlog due and the claim's order alone decides what goes first.
 * The messages are accepted while earlier ones are already on a later, longer wait of the schedule: that is what
 * made the claim's old {@code ORDER BY next_attempt} deliver a younger message first.
 */
class QueueDownstreamOutageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MESSAGES = 5;

    @TempDir
    Path dir;

    /** {@code keyrelay queue list [--state S] --json}, run as its own process against the store, as an operator would. */
    private static List<JsonNode> list(Map<String, String> env, Path dir, String... filter) throws Exception {
        List<String> args = new ArrayList<>(List.of("queue", "list", "--json"));
        args.addAll(List.of(filter));
        ProcessRun r = ProcessRun.keyrelay(dir, env, args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        return StreamSupport.stream(JSON.readTree(r.stdout()).get("messages").spliterator(), false).toList();
    }

    private static int status(HttpClient http, int adminPort, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void downstreamDownForAWhile_messagesAreDeferred_thenDeliveredOnceEachOldestFirst(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); HttpClient http = HttpClient.newHttpClient()) {
            CreatedKey key = QueueDrillIT.createKey(db);
            int port = FreePorts.pick();
            int admin = FreePorts.pick();
            int downstream = FreePorts.pick(); // nothing listens there until the downstream "comes back"
            Map<String, String> extra = new HashMap<>();
            extra.put("KEYRELAY_QUEUE_WORKERS", "1");
            extra.put("KEYRELAY_QUEUE_RETRY_SCHEDULE", "1s,2s");
            extra.put("KEYRELAY_QUEUE_POLL_INTERVAL", "3s");
            extra.put("KEYRELAY_ADMIN_PORT", Integer.toString(admin));
            try (RelayProcess relay = QueueDrillIT.serve(db, port, downstream, "30s", List.of(), extra)) {
                List<String> ids = new ArrayList<>();
                try (RawSmtpClient c = QueueDrillIT.client(port, key.secret())) {
                    for (int i = 1; i <= MESSAGES; i++) {
                        RawSmtpClient.Reply r = c.send("app@example.com", List.of("r" + i + "@dest.test"),
                                ("Subject: n=" + i + "\r\n\r\nmessage " + i + "\r\n").getBytes(StandardCharsets.US_ASCII))
                                .assertCode(250);
                        ids.add(r.text().substring(r.text().indexOf("queued as ") + 10).strip());
                        // Distinct times of acceptance, each after the one before has been tried and deferred, so
                        // that the older messages are on the schedule's second wait when a new one gets its first.
                        String id = ids.getLast();
                        relay.awaitLine(l -> l.contains("id=" + id + " attempt=1 ") && l.contains("deferred=1"),
                                Duration.ofSeconds(20));
                        Thread.sleep(700); // the drill's pace: a client sending now and then, not a timing assertion
                    }
                }
                assertThat(ids).isSorted(); // UUIDv7: the ids sort by acceptance
                // Every message is deferred, each tried at least twice, with the downstream's failure as its reply.
                Map<String, String> env = new HashMap<>(db.env());
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    List<JsonNode> msgs = list(env, dir, "--state", "deferred");
                    return msgs.size() == MESSAGES && msgs.stream().allMatch(m -> m.get("attempts").asInt() >= 2
                            && m.get("last_reply").asText().contains("downstream"));
                });
                assertThat(status(http, admin, "/readyz")).as("the queue exists for this: ready").isEqualTo(200);
                assertThat(mtaNotYet(relay)).isTrue();

                // The downstream comes back just after a poll's round of attempts has ended (the youngest message,
                // claimed last, has been tried again), not in the middle of one: the next round finds it up.
                String youngest = ids.getLast();
                int tried = attempts(relay, youngest);
                relay.awaitLine(l -> l.contains("id=" + youngest + " attempt=" + (tried + 1) + " "), Duration.ofSeconds(20));
                try (ScriptedMta mta = new ScriptedMta(downstream)) { // the downstream is back
                    await().atMost(Duration.ofSeconds(30)).until(() -> mta.received().size() >= MESSAGES);
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
                            .until(() -> list(env, dir).isEmpty());
                    List<String> order = mta.received().stream()
                            .map(m -> new String(m.data(), StandardCharsets.US_ASCII))
                            .map(s -> s.substring(s.indexOf("Subject: n=") + 11, s.indexOf("Subject: n=") + 12))
                            .toList();
                    assertThat(order).as("arrival order at the sink").containsExactly("1", "2", "3", "4", "5");
                    assertThat(mta.mailCommands()).as("each delivered once").isEqualTo(MESSAGES);
                    assertThat(mta.received()).extracting(ScriptedMta.Received::to)
                            .containsExactly(List.of("r1@dest.test"), List.of("r2@dest.test"), List.of("r3@dest.test"),
                                    List.of("r4@dest.test"), List.of("r5@dest.test"));
                    assertThat(status(http, admin, "/readyz")).isEqualTo(200);
                }
                relay.terminate(Duration.ofSeconds(30));
            }
            assertThat(QueueDrillIT.queued(db)).isZero();
        }
    }

    /** How many attempts of {@code id} the relay has logged so far. */
    private static int attempts(RelayProcess relay, String id) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("id=" + id + " attempt=(\\d+) ");
        return java.util.stream.Stream.concat(relay.stdout().stream(), relay.stderr().stream())
                .map(p::matcher).filter(java.util.regex.Matcher::find).mapToInt(m -> Integer.parseInt(m.group(1)))
                .max().orElse(0);
    }

    /** Nothing was delivered while the downstream was away (no line says so). */
    private static boolean mtaNotYet(RelayProcess relay) {
        return java.util.stream.Stream.concat(relay.stdout().stream(), relay.stderr().stream())
                .noneMatch(l -> l.contains("delivered=1"));
    }
}
