package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.queue.Outcome;
import io.keyrelay.queue.QueueFixture;
import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code keyrelay queue …} commands on H2 and PostgreSQL, against messages put through real delivery attempts
 * in the store: filters, one message's recipients and attempts, the Postfix verbs with their refusals, and the
 * audit trail each change leaves.
 */
class QueueCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static JsonNode json(Result r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    static List<String> ids(JsonNode list) {
        return StreamSupport.stream(list.get("messages").spliterator(), false).map(m -> m.get("id").asText()).toList();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void listShowRetryHoldReleaseDelete_actOnTheStoreAndAreAudited(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = new HashMap<>(db.env());
            env.put("USER", "ops");
            // The store stays open for the whole test, as a running relay keeps it: the CLI's commands share it
            // (for H2 in this JVM, the same open database) instead of each opening a fresh file on a busy machine.
            try (Database d = Database.open(db.db(), db.dataDir())) {
                d.migrate();
                JsonNode key = json(run(env, "keys", "create", "--label", "app", "--grant", "smtp/inject", "--json"));
                String keyId = key.get("id").asText();
                String shortKey = key.get("short_key").asText();
                QueueFixture q = new QueueFixture(d.dataSource(), Clock.systemUTC());
                Instant now = Instant.now();
                String deferred = q.queue("app@example.com", List.of("a@example.net", "b@example.net"), keyId,
                        shortKey, null, now);
                q.attempt(deferred, now, "451 4.3.0 try later", Outcome.Kind.DELIVERED, Outcome.Kind.DEFERRED);
                String failed = q.queue("app@example.com", List.of("c@example.net"), keyId, shortKey, 7L, now);
                q.attempt(failed, now, "550 5.1.1 no such user", Outcome.Kind.FAILED);
                String queued = q.queue("Other@Example.org", List.of("d@example.net"), null, null, 7L, now);
                exercise(env, keyId, shortKey, deferred, failed, queued);
            }
        }
    }

    private static void exercise(Map<String, String> env, String keyId, String shortKey, String deferred,
            String failed, String queued) throws Exception {
        {
            Result list = run(env, "queue", "list");
            assertThat(list.code()).as(list.err()).isZero();
            assertThat(list.out()).contains("ID", "STATE", deferred, failed, queued, "deferred", "failed", "queued",
                    "<app@example.com>", shortKey);
            assertThat(list.out().lines().mapToInt(String::length).max().orElseThrow()).isLessThanOrEqualTo(120);
            JsonNode all = json(run(env, "queue", "list", "--json"));
            assertThat(all.get("total").asLong()).isEqualTo(3);
            assertThat(all.at("/by_state/deferred").asLong()).isEqualTo(1);
            assertThat(all.at("/by_state/failed").asLong()).isEqualTo(1);
            assertThat(all.at("/by_state/held").asLong()).isZero();
            assertThat(all.get("oldest_pending_at").asText()).endsWith("Z");
            assertThat(ids(all)).containsExactly(deferred, failed, queued); // oldest first
            assertThat(ids(json(run(env, "queue", "list", "--state", "deferred", "--json")))).containsExactly(deferred);
            assertThat(ids(json(run(env, "queue", "list", "--key", keyId, "--json")))).containsExactly(deferred,
                    failed);
            assertThat(ids(json(run(env, "queue", "list", "--subaccount", "7", "--json")))).containsExactly(failed,
                    queued);
            assertThat(ids(json(run(env, "queue", "list", "--search", "other@EXAMPLE", "--json"))))
                    .containsExactly(queued);
            assertThat(ids(json(run(env, "queue", "list", "--search", "C@example.net", "--json"))))
                    .containsExactly(failed);
            assertThat(ids(json(run(env, "queue", "list", "--search", "100%_", "--json")))).isEmpty();
            Result page = run(env, "queue", "list", "--limit", "1");
            assertThat(page.out()).contains(deferred, "--after " + deferred).doesNotContain(failed);
            assertThat(ids(json(run(env, "queue", "list", "--limit", "1", "--after", deferred, "--json"))))
                    .containsExactly(failed);
            assertThat(run(env, "queue", "list", "--state", "held").out()).contains("No queued messages match.");

            Result badState = run(env, "queue", "list", "--state", "bounced");
            assertThat(badState.code()).isEqualTo(2);
            assertThat(badState.err()).startsWith("keyrelay: --state: 'bounced' is not a queue state; the states are"
                    + " queued, active, deferred, held, failed").contains("see '");
            assertThat(run(env, "queue", "list", "--limit", "0").err()).contains("--limit: 0 is out of range");

            Result show = run(env, "queue", "show", deferred);
            assertThat(show.code()).as(show.err()).isZero();
            assertThat(show.out()).contains("state:         deferred", "sender:        <app@example.com>",
                    "key:           " + keyId + " (" + shortKey + ")", "subaccount:    none", "attempts:      1",
                    "last reply:    451 4.3.0 try later", "from 127.0.0.9");
            assertThat(show.out()).containsPattern("a@example\\.net +delivered +451 4\\.3\\.0 try later")
                    .containsPattern("b@example\\.net +pending +451 4\\.3\\.0 try later")
                    .contains("#1", "delivered 1, failed 0, deferred 1");
            JsonNode detail = json(run(env, "queue", "show", deferred, "--json"));
            assertThat(detail.at("/recipients/1/state").asText()).isEqualTo("pending");
            assertThat(detail.at("/attempt_log/0/deferred").asInt()).isEqualTo(1);
            assertThat(detail.get("next_attempt_at").asText()).endsWith("Z");
            assertThat(run(env, "queue", "show", failed).out()).contains("next attempt:  none: every recipient is"
                    + " settled", "subaccount:    7");

            // hold, and what does not apply to a held message
            Result hold = run(env, "queue", "hold", queued);
            assertThat(hold.code()).as(hold.err()).isZero();
            assertThat(hold.out()).contains("is held until released (held)");
            assertThat(ids(json(run(env, "queue", "list", "--state", "held", "--json")))).containsExactly(queued);
            Result twice = run(env, "queue", "hold", queued);
            assertThat(twice.code()).isEqualTo(1);
            assertThat(twice.err().strip()).isEqualTo("keyrelay: message " + queued + " is held: it is held already");
            Result retryHeld = run(env, "queue", "retry", queued);
            assertThat(retryHeld.code()).isEqualTo(1);
            assertThat(retryHeld.err()).contains("release it first");
            assertThat(run(env, "queue", "hold", failed).err()).contains("only 'queue retry' or 'queue delete'");
            assertThat(run(env, "queue", "release", deferred).err()).contains("is deferred: it is not held");
            JsonNode released = json(run(env, "queue", "release", queued, "--json"));
            assertThat(released.get("state").asText()).isEqualTo("queued");

            // retry a failed message: its failed recipient is pending again
            assertThat(run(env, "queue", "retry", failed).out()).contains("is due now (deferred)");
            assertThat(json(run(env, "queue", "show", failed, "--json")).at("/recipients/0/state").asText())
                    .isEqualTo("pending");
            assertThat(run(env, "queue", "retry", "--all").out()).contains("2 deferred messages are due now.");
            assertThat(run(env, "queue", "retry").err()).contains("missing ID (or --all");
            assertThat(run(env, "queue", "retry", failed, "--all").code()).isEqualTo(2);

            assertThat(run(env, "queue", "delete", queued).out()).contains("is deleted.");
            Result gone = run(env, "queue", "show", queued);
            assertThat(gone.code()).isEqualTo(1);
            assertThat(gone.err()).contains("no queued message has id " + queued);
            assertThat(run(env, "queue", "delete", queued).code()).isEqualTo(1);
            Result notAnId = run(env, "queue", "show", "12345");
            assertThat(notAnId.code()).isEqualTo(2);
            assertThat(notAnId.err()).contains("'12345' is not a queue id");

            JsonNode audit = json(run(env, "audit", "list", "--json"));
            List<JsonNode> queueEvents = StreamSupport.stream(audit.spliterator(), false)
                    .filter(e -> e.get("action").asText().startsWith("queue.")).toList();
            assertThat(queueEvents).extracting(e -> e.get("action").asText()).containsExactly("queue.deleted",
                    "queue.retried", "queue.retried", "queue.released", "queue.held");
            assertThat(queueEvents).allSatisfy(e -> assertThat(e.get("actor").asText()).isEqualTo("cli:ops"));
            JsonNode retriedFailed = queueEvents.get(2);
            assertThat(retriedFailed.get("key_id").asText()).isEqualTo(keyId);
            assertThat(retriedFailed.get("detail").asText()).contains(failed, "was failed");
            assertThat(queueEvents.get(1).get("detail").asText()).contains("all deferred messages (2)");
            assertThat(json(run(env, "audit", "list", "--action", "queue.held", "--json"))).hasSize(1);
        }
    }
}
