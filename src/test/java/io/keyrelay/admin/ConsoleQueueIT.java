package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.queue.MessageState;
import io.keyrelay.queue.Outcome;
import io.keyrelay.queue.QueueFixture;
import io.keyrelay.queue.QueuedMessage;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The console's Queue page over real HTTP on H2 and PostgreSQL: a subaccount's key sees only its messages, a
 * view-only key gets no buttons and cannot post, every change needs the session's CSRF token, and a verb that
 * does not apply is refused on the message's page.
 */
class ConsoleQueueIT {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void queuePage_keepsToTheKeysScope_andChangesOnlyWithCsrf(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            CreatedKey sub = f.key(new KeySpec("sub7", EnumSet.of(Grant.QUEUE_MANAGE, Grant.API_KEYS_VIEW),
                    IpAllowlist.ANY, 7L, null));
            String viewer = f.key("viewer", Grant.QUEUE_VIEW, Grant.API_KEYS_VIEW).secret();
            String keysOnly = f.key("keys", Grant.API_KEYS_MANAGE).secret();
            QueueFixture q = new QueueFixture(f.database.dataSource(), f.clock);
            Instant now = f.clock.instant();
            String primary = q.queue("app@example.com", List.of("a@example.net"), null, null, null, now);
            q.attempt(primary, now, "451 4.3.0 later", Outcome.Kind.DEFERRED);
            String own = q.queue("sub@example.com", List.of("b@example.net"), sub.key().id(), sub.key().shortKey(),
                    7L, now);

            ConsoleClient c = new ConsoleClient(f);
            assertThat(c.signIn(sub.secret()).statusCode()).isEqualTo(303); // the console signs in with api_keys/view
            HttpResponse<String> list = c.get("/console/queue");
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).contains(own, "sub@example.com").doesNotContain(primary)
                    .contains("All <strong>1</strong>");
            assertThat(c.get("/console/queue/" + primary).statusCode()).isEqualTo(404);
            assertThat(c.get("/console/queue/" + own).body()).contains("id=\"hold\"", "id=\"delete-message\"");

            // no CSRF token: refused, nothing changes
            HttpResponse<String> forged = c.post("/console/queue/" + own + "/hold", List.of(), false, null);
            assertThat(forged.statusCode()).isEqualTo(403);
            assertThat(f.queue.get(own).map(QueuedMessage::state)).contains(MessageState.QUEUED);
            // another subaccount's message cannot be changed either (404, as if it did not exist)
            assertThat(c.submit("/console/queue/" + primary + "/delete", List.of()).statusCode()).isEqualTo(404);
            assertThat(f.queue.get(primary)).isPresent();

            HttpResponse<String> held = c.submit("/console/queue/" + own + "/hold", List.of());
            assertThat(held.statusCode()).isEqualTo(303);
            assertThat(ConsoleClient.location(held)).contains("/console/queue/" + own + "?done=hold");
            assertThat(f.queue.get(own).map(QueuedMessage::state)).contains(MessageState.HELD);
            c.get("/console/queue/" + own);
            HttpResponse<String> again = c.submit("/console/queue/" + own + "/hold", List.of());
            assertThat(again.statusCode()).isEqualTo(409);
            assertThat(again.body()).contains("The message is held: hold does not apply to it now.");

            ConsoleClient v = new ConsoleClient(f);
            v.signIn(viewer);
            HttpResponse<String> page = v.get("/console/queue/" + primary);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("451 4.3.0 later").doesNotContain("id=\"hold\"")
                    .doesNotContain("id=\"delete-message\"");
            assertThat(v.submit("/console/queue/" + primary + "/delete", List.of()).statusCode()).isEqualTo(403);
            assertThat(f.queue.get(primary)).isPresent();

            ConsoleClient k = new ConsoleClient(f);
            k.signIn(keysOnly);
            assertThat(k.get("/console/api-keys").body()).contains("id=\"nav-queue\"");
            assertThat(k.get("/console/queue").statusCode()).isEqualTo(403);
        }
    }
}
