package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.body;
import static io.keyrelay.admin.ApiAssertions.error;
import static io.keyrelay.admin.ApiAssertions.results;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.queue.Outcome;
import io.keyrelay.queue.QueueFixture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The queue API over real HTTP on H2 and PostgreSQL, against messages put through real delivery attempts: filters
 * and SparkPost paging, grants, subaccount tenancy (a subaccount's key sees only its messages; others do not
 * exist for it), the verbs with their 409s, and the audit trail with the client address.
 */
class QueueApiIT {
    private static final String BASE = "/api/v1/queue";

    @TempDir
    Path dir;

    static List<String> ids(JsonNode results) {
        List<String> out = new ArrayList<>();
        results.forEach(m -> out.add(m.get("id").asText()));
        return out;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void queueApi_listsPagesAndChangesWithinTheCallersScope(Kind kind) throws Exception {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            CreatedKey admin = f.key("admin", Grant.QUEUE_MANAGE);
            String viewer = f.key("viewer", Grant.QUEUE_VIEW).secret();
            String keysOnly = f.key("keys", Grant.API_KEYS_MANAGE).secret();
            CreatedKey sub = f.key(new KeySpec("sub7", EnumSet.of(Grant.QUEUE_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.ANY, 7L, null));
            String a = admin.secret();

            QueueFixture q = new QueueFixture(f.database.dataSource(), f.clock);
            Instant now = f.clock.instant();
            String deferred = q.queue("app@example.com", List.of("a@example.net", "b@example.net"),
                    admin.key().id(), admin.key().shortKey(), null, now);
            q.attempt(deferred, now, "451 4.3.0 try later", Outcome.Kind.DELIVERED, Outcome.Kind.DEFERRED);
            String failed = q.queue("app@example.com", List.of("c@example.net"), sub.key().id(), sub.key().shortKey(),
                    7L, now);
            q.attempt(failed, now, "550 5.1.1 no such user", Outcome.Kind.FAILED);
            String queued = q.queue("other@example.org", List.of("d@example.net"), sub.key().id(),
                    sub.key().shortKey(), 7L, now);

            // list, filters, paging
            HttpResponse<String> all = f.get(BASE, a);
            assertThat(ids(results(all, 200))).containsExactly(deferred, failed, queued);
            assertThat(body(all).get("links").has("next")).isFalse();
            JsonNode first = results(f.get(BASE, a), 200).get(0);
            assertThat(first.get("state").asText()).isEqualTo("deferred");
            assertThat(first.get("short_key").asText()).isEqualTo(admin.key().shortKey());
            assertThat(first.get("next_attempt_at").asText()).endsWith("Z");
            assertThat(first.has("recipients")).isFalse();
            HttpResponse<String> page1 = f.get(BASE + "?per_page=2&search=EXAMPLE.net", a);
            assertThat(ids(results(page1, 200))).containsExactly(deferred, failed);
            String next = body(page1).at("/links/next").asText();
            assertThat(next).startsWith(BASE + "?per_page=2&cursor=" + failed).contains("search=EXAMPLE.net");
            assertThat(ids(results(f.get(next, a), 200))).containsExactly(queued);
            assertThat(ids(results(f.get(BASE + "?state=failed", viewer), 200))).containsExactly(failed);
            assertThat(ids(results(f.get(BASE + "?key_id=" + sub.key().id(), a), 200))).containsExactly(failed,
                    queued);
            assertThat(error(f.get(BASE + "?state=bounced", a), 400, "1200"))
                    .startsWith("state: 'bounced' is not a queue state; the states are queued, active");
            assertThat(error(f.get(BASE + "?per_page=0", a), 400, "1200")).startsWith("per_page:");
            assertThat(error(f.get(BASE + "?per_page=1001", a), 400, "1200")).startsWith("per_page:");
            assertThat(error(f.get(BASE + "?cursor=xyz", a), 400, "1200")).startsWith("cursor:");
            JsonNode counts = results(f.get(BASE + "/counts", viewer), 200);
            assertThat(counts.get("total").asLong()).isEqualTo(3);
            assertThat(counts.at("/by_state/deferred").asLong()).isEqualTo(1);
            assertThat(counts.get("oldest_pending_at").asText()).endsWith("Z");

            // one message
            JsonNode d = results(f.get(BASE + "/" + deferred, viewer), 200);
            assertThat(d.at("/recipients/0/state").asText()).isEqualTo("delivered");
            assertThat(d.at("/recipients/1/state").asText()).isEqualTo("pending");
            assertThat(d.at("/recipients/1/last_reply").asText()).isEqualTo("451 4.3.0 try later");
            assertThat(d.at("/attempt_log/0/attempt").asInt()).isEqualTo(1);
            assertThat(d.at("/attempt_log/0/delivered").asInt()).isEqualTo(1);
            assertThat(d.get("client_address").asText()).isEqualTo("127.0.0.9");
            assertThat(d.toString()).doesNotContain("hello"); // never the body
            assertThat(error(f.get(BASE + "/" + deferred.replace('-', 'x'), a), 404, "1600")).contains("no queued");

            // grants
            assertThat(error(f.get(BASE, keysOnly), 403, "1100")).contains("queue/view or queue/manage");
            assertThat(error(f.json("POST", BASE + "/" + queued + "/hold", viewer, null), 403, "1100"))
                    .contains("queue/manage");
            assertThat(error(f.get(BASE, null), 401, "1100")).isNotBlank();
            JsonNode grants = results(f.get(KeysApi.GRANTS, keysOnly), 200);
            List<String> names = new ArrayList<>();
            grants.forEach(g -> names.add(g.get("key").asText()));
            assertThat(names).contains("queue/view", "queue/manage");

            // tenancy: the subaccount's key sees its two messages only; the other one does not exist for it
            String s = sub.secret();
            assertThat(ids(results(f.get(BASE, s), 200))).containsExactly(failed, queued);
            assertThat(results(f.get(BASE + "/counts", s), 200).get("total").asLong()).isEqualTo(2);
            assertThat(error(f.get(BASE + "/" + deferred, s), 404, "1600")).contains(deferred);
            assertThat(error(f.json("POST", BASE + "/" + deferred + "/hold", s, null), 404, "1600")).isNotBlank();
            assertThat(error(f.json("DELETE", BASE + "/" + deferred, s, null), 404, "1600")).isNotBlank();
            assertThat(error(f.json("POST", BASE + "/retry", s, null), 403, "1100")).contains("primary-account");
            assertThat(ids(results(f.send(f.request(BASE, a).header("X-MSYS-SUBACCOUNT", "7").GET().build()), 200)))
                    .containsExactly(failed, queued);
            assertThat(error(f.send(f.request(BASE, s).header("X-MSYS-SUBACCOUNT", "8").GET().build()), 403, "1100"))
                    .contains("subaccount 7");
            assertThat(error(f.send(f.request(BASE, a).header("X-MSYS-SUBACCOUNT", "x").GET().build()), 400, "1200"))
                    .startsWith("X-MSYS-SUBACCOUNT:");

            // verbs
            assertThat(results(f.json("POST", BASE + "/" + queued + "/hold", s, null), 200).get("state").asText())
                    .isEqualTo("held");
            assertThat(error(f.json("POST", BASE + "/" + queued + "/hold", s, null), 409, "1602"))
                    .isEqualTo("state: message " + queued + " is held; hold applies to queued and deferred messages");
            assertThat(error(f.json("POST", BASE + "/" + queued + "/retry", a, null), 409, "1602"))
                    .contains("is held; retry applies to queued, deferred and failed messages");
            assertThat(error(f.json("POST", BASE + "/" + deferred + "/release", a, null), 409, "1602"))
                    .contains("release applies to held messages");
            assertThat(results(f.json("POST", BASE + "/" + queued + "/release", a, null), 200).get("state").asText())
                    .isEqualTo("queued");
            assertThat(results(f.json("POST", BASE + "/" + failed + "/retry", s, null), 200).get("state").asText())
                    .isEqualTo("deferred");
            assertThat(results(f.json("POST", BASE + "/retry", a, null), 200).get("retried").asInt()).isEqualTo(2);
            HttpResponse<String> deleted = f.json("DELETE", BASE + "/" + queued, s, null);
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(204);
            assertThat(error(f.get(BASE + "/" + queued, a), 404, "1600")).isNotBlank();

            // the audit trail names the key and the address the request came from
            List<AuditEvent> held = f.keys.audit(null, "queue.held", null, 10);
            assertThat(held).singleElement().satisfies(e -> {
                assertThat(e.actor()).isEqualTo("key:" + sub.key().id() + " (" + sub.key().shortKey() + ")");
                assertThat(e.clientAddress()).isEqualTo("127.0.0.1");
                assertThat(e.keyId()).isEqualTo(sub.key().id());
                assertThat(e.detail()).isEqualTo("message " + queued + " (was queued)");
            });
            assertThat(f.keys.audit(null, "queue.deleted", null, 10)).singleElement()
                    .satisfies(e -> assertThat(e.actor()).contains(sub.key().id()));
            assertThat(f.keys.audit(null, "queue.retried", null, 10)).hasSize(2);
        }
    }
}
