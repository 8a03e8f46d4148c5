package io.keyrelay.admin;

import static io.keyrelay.admin.ConsoleClient.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Actor;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web console over real HTTP (the browser flow itself is in {@link ConsoleBrowserIT}). */
class ConsoleIT {
    private static final Pattern NEW_KEY = Pattern.compile("<code id=\"new-key\">([0-9a-f]{40})</code>");

    @TempDir
    Path dir;

    @Test
    void signIn_setsAStrictHttpOnlyCookie_andPagesCarryTheSecurityHeaders() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            CreatedKey admin = f.key("ops admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT);
            ConsoleClient c = new ConsoleClient(f);
            assertThat(location(c.get("/console/api-keys"))).as("not signed in").hasValue("/console/sign-in");
            assertThat(c.get("/console/sign-in").body()).contains("<label for=\"key\">API key</label>");

            HttpResponse<String> signIn = c.signIn(admin.secret());
            assertThat(signIn.statusCode()).isEqualTo(303);
            assertThat(location(signIn)).hasValue("/console/api-keys");
            String setCookie = signIn.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(setCookie).startsWith("keyrelay_session=").containsIgnoringCase("HttpOnly")
                    .containsIgnoringCase("SameSite=Strict").containsIgnoringCase("Path=/console");
            assertThat(setCookie.toLowerCase()).as("plain HTTP here: Secure only over TLS").doesNotContain("secure");

            HttpResponse<String> list = c.get("/console/api-keys");
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).contains("ops admin", admin.key().shortKey() + "••••").doesNotContain(admin.secret())
                    .doesNotContain(admin.key().keyHash());
            assertThat(list.headers().firstValue("Content-Security-Policy")).hasValue(SecurityHeaders.CSP);
            assertThat(list.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(list.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(list.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(list.body()).as("nothing loaded from elsewhere: works offline").doesNotContain("http://",
                    "https://");
            assertThat(f.get("/console/assets/console.js", null).statusCode()).isEqualTo(200);
            assertThat(f.get("/console/assets/console.css", null).body()).contains(".status-revoked");
        }
    }

    @Test
    void signIn_withAnUnknownOrUnderprivilegedKey_isRefused_withoutASession() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String smtpOnly = f.key("smtp", Grant.SMTP_INJECT).secret();
            ConsoleClient c = new ConsoleClient(f);
            HttpResponse<String> unknown = c.signIn("f".repeat(40));
            assertThat(unknown.statusCode()).isEqualTo(401);
            assertThat(unknown.body()).contains("That key was not accepted.");
            assertThat(unknown.headers().firstValue("Set-Cookie")).isEmpty();
            HttpResponse<String> lacking = c.signIn(smtpOnly);
            assertThat(lacking.statusCode()).isEqualTo(403);
            assertThat(lacking.body()).contains("api_keys/manage or api_keys/view");
            assertThat(lacking.headers().firstValue("Set-Cookie")).isEmpty();
            assertThat(c.signIn("  ").statusCode()).isEqualTo(401);
        }
    }

    @Test
    void create_showsTheKeyOnce_thenOnlyItsFirstFourCharacters() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir); LogCapture logs = LogCapture.of("")) {
            CreatedKey admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT, Grant.METRICS_VIEW);
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin.secret());
            assertThat(c.get("/console/api-keys/new").body()).contains("Select all", "id=\"grant-smtp-inject\"");

            assertThat(c.get("/console/api-keys/new").body()).contains("id=\"messages_per_minute\"",
                    "id=\"max_message_size\"");
            HttpResponse<String> created = c.submit("/console/api-keys", List.of("label", "newsletter",
                    "grants", "smtp/inject", "grants", "metrics/view", "subaccount", "", "valid_ips",
                    "127.0.0.1\n2001:db8::/32", "expires", "2099-12-31", "messages_per_day", "5000",
                    "max_recipients", "10"));
            // POST–redirect–GET: the POST answers 303 to the new key's page, which shows the secret once.
            assertThat(created.statusCode()).as(created.body()).isEqualTo(303);
            ApiKey stored = f.keys.list().stream().filter(k -> k.label().equals("newsletter")).findFirst().orElseThrow();
            String createdPage = "/console/api-keys/" + stored.id() + "/created";
            assertThat(location(created)).hasValue(createdPage);
            assertThat(created.body()).doesNotContainPattern("[0-9a-f]{40}");
            HttpResponse<String> shown = c.get(createdPage);
            assertThat(shown.statusCode()).isEqualTo(200);
            assertThat(shown.headers().firstValue("Cache-Control")).hasValue("no-store");
            Matcher m = NEW_KEY.matcher(shown.body());
            assertThat(m.find()).as(shown.body()).isTrue();
            String secret = m.group(1);
            assertThat(shown.body()).contains("ONE TIME ONLY", "data-copy=\"new-key\"");
            // A reload (or Back) repeats the GET: the page is there, the secret is not, and no key was added.
            HttpResponse<String> again = c.get(createdPage);
            assertThat(again.statusCode()).isEqualTo(200);
            assertThat(again.body()).doesNotContain(secret).contains("id=\"shown-before\"", "newsletter");
            assertThat(f.keys.list().stream().filter(k -> k.label().equals("newsletter"))).hasSize(1);
            // Another session (another browser signed in with the same key) never sees it either.
            ConsoleClient other = new ConsoleClient(f);
            other.signIn(admin.secret());
            assertThat(other.get(createdPage).body()).doesNotContain(secret);

            assertThat(stored.grants()).containsExactlyInAnyOrder(Grant.SMTP_INJECT, Grant.METRICS_VIEW);
            assertThat(stored.validIps().asStrings()).containsExactly("127.0.0.1", "2001:db8::/32");
            assertThat(stored.expiresAt()).hasToString("2099-12-31T00:00:00Z");
            assertThat(stored.limits()).isEqualTo(new KeyLimits(null, 5000L, 10L, null));
            assertThat(stored.shortKey()).isEqualTo(secret.substring(0, 4));
            AuditEvent audit = f.keys.audit(stored.id(), null, 5).getFirst();
            assertThat(audit.actor()).isEqualTo(Actor.key(admin.key()).name());
            assertThat(audit.clientAddress()).as("the console records the client address, as the API does")
                    .isEqualTo("127.0.0.1");

            for (String page : List.of("/console/api-keys", "/console/api-keys/" + stored.id())) {
                String html = c.get(page).body();
                assertThat(html).contains("newsletter", secret.substring(0, 4) + "••••").doesNotContain(secret);
            }
            assertThat(logs.all()).doesNotContain(secret).doesNotContain(admin.secret());
        }
    }

    @Test
    void invalidForms_areShownAgain_namingTheField_andEscalationIsRefused() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin);
            c.get("/console/api-keys/new");

            HttpResponse<String> badIp = c.submit("/console/api-keys", List.of("label", "app", "grants", "smtp/inject",
                    "valid_ips", "127.0.0.1, 10.0.0.1/8"));
            assertThat(badIp.statusCode()).isEqualTo(422);
            assertThat(badIp.body()).contains("Allowed IPs: &#39;10.0.0.1/8&#39; has host bits set")
                    .contains("value=\"app\"");
            HttpResponse<String> badIps = c.submit("/console/api-keys", List.of("label", "app", "grants", "smtp/inject",
                    "valid_ips", "127.0.0.1\n10.0.0.300\nfe80::/200\n192.0.2.0/24"));
            assertThat(badIps.statusCode()).isEqualTo(422);
            assertThat(badIps.body()).as("every bad entry at once").contains("Allowed IPs: 2 entries are not valid:",
                    "&#39;10.0.0.300&#39;", "&#39;fe80::/200&#39;");
            HttpResponse<String> noGrant = c.submit("/console/api-keys", List.of("label", "app"));
            assertThat(noGrant.statusCode()).isEqualTo(422);
            assertThat(noGrant.body()).contains("Permissions: at least one grant is required");
            HttpResponse<String> badSub = c.submit("/console/api-keys", List.of("label", "app", "grants", "smtp/inject",
                    "subaccount", "x1"));
            assertThat(badSub.body()).contains("Subaccount: &#39;x1&#39; is not a subaccount number");
            HttpResponse<String> escalation = c.submit("/console/api-keys", List.of("label", "app", "grants",
                    "smtp/inject", "grants", "metrics/view"));
            assertThat(escalation.statusCode()).isEqualTo(403);
            assertThat(escalation.body()).contains("cannot hand out metrics/view");
            assertThat(c.get("/console/api-keys/new").body()).containsPattern(
                    "id=\"grant-metrics-view\"[^>]*disabled");
            assertThat(f.keys.list()).hasSize(1);
        }
    }

    @Test
    void posts_withoutTheSessionsToken_orFromAnotherOrigin_areRefused() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            CreatedKey admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT);
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin.secret());
            c.get("/console/api-keys/new");
            List<String> form = List.of("label", "csrf victim", "grants", "smtp/inject");

            HttpResponse<String> noToken = c.post("/console/api-keys", form, false, null);
            assertThat(noToken.statusCode()).isEqualTo(403);
            assertThat(noToken.body()).contains("did not come from this console");
            assertThat(c.post("/console/api-keys", List.of("label", "x", "grants", "smtp/inject", "csrf", "forged"),
                    false, null).statusCode()).isEqualTo(403);
            assertThat(c.post("/console/api-keys", form, true, "http://evil.example").statusCode()).isEqualTo(403);
            assertThat(c.post("/console/api-keys", form, true, "null").statusCode()).isEqualTo(403);
            assertThat(f.send(f.request("/console/api-keys", null).header("Cookie", c.cookie())
                    .header("Sec-Fetch-Site", "cross-site").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("label=x&grants=smtp%2Finject"))
                    .build()).statusCode()).isEqualTo(403);
            assertThat(c.post("/console/api-keys/" + admin.key().id() + "/revoke", List.of(), false, null)
                    .statusCode()).isEqualTo(403);
            assertThat(new ConsoleClient(f).post("/console/sign-in", List.of("key", admin.secret()), false,
                    "http://evil.example").statusCode()).isEqualTo(403);
            assertThat(f.keys.list()).hasSize(1);
            assertThat(f.keys.get(admin.key().id()).isRevoked()).isFalse();
            // The same form with the token and our own origin goes through.
            assertThat(c.post("/console/api-keys", form, true, f.server.baseUri().toString()).statusCode())
                    .isEqualTo(303);
        }
    }

    @Test
    void sessions_endWhenIdle_afterTwelveHours_onSignOut_andWhenTheirKeyIsRevoked() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            CreatedKey admin = f.key("admin", Grant.API_KEYS_MANAGE);
            CreatedKey other = f.key("other admin", Grant.API_KEYS_MANAGE);
            ConsoleClient c = new ConsoleClient(f);

            c.signIn(admin.secret());
            f.clock.advance(Duration.ofMinutes(29));
            assertThat(c.get("/console/api-keys").statusCode()).isEqualTo(200);
            f.clock.advance(Duration.ofMinutes(31));
            assertThat(location(c.get("/console/api-keys"))).hasValue("/console/sign-in?expired");

            c.signIn(admin.secret());
            for (int i = 0; i < 36; i++) { // 36 × 20 min = 12 h, never idle for long
                f.clock.advance(Duration.ofMinutes(20));
                assertThat(c.get("/console/api-keys").statusCode()).as("after %d × 20 min", i + 1)
                        .isEqualTo(200);
            }
            f.clock.advance(Duration.ofMinutes(1));
            assertThat(location(c.get("/console/api-keys"))).hasValue("/console/sign-in?expired");

            c.signIn(admin.secret());
            c.get("/console/api-keys");
            assertThat(location(c.submit("/console/sign-out", List.of()))).hasValue("/console/sign-in?signed-out");
            assertThat(location(c.get("/console/api-keys"))).hasValue("/console/sign-in");

            ConsoleClient d = new ConsoleClient(f);
            d.signIn(other.secret());
            assertThat(d.get("/console/api-keys").statusCode()).isEqualTo(200);
            f.keys.revoke(other.key().id(), Actor.CLI);
            assertThat(location(d.get("/console/api-keys"))).hasValue("/console/sign-in?expired");
        }
    }

    @Test
    void signingIn_issuesANewSessionId_andTheOldOneIsWorthNothing() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin);
            String first = c.cookie();
            c.signIn(admin);
            String second = c.cookie();
            assertThat(second).isNotEqualTo(first);
            ConsoleClient stale = new ConsoleClient(f);
            stale.cookie(first);
            assertThat(location(stale.get("/console/api-keys"))).hasValue("/console/sign-in");
        }
    }

    @Test
    void aViewOnlyKey_canLookButNotChange() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String viewer = f.key("viewer", Grant.API_KEYS_VIEW).secret();
            CreatedKey app = f.key("app", Grant.SMTP_INJECT);
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(viewer);
            String list = c.get("/console/api-keys").body();
            assertThat(list).contains("app").doesNotContain("Create API Key");
            String detail = c.get("/console/api-keys/" + app.key().id()).body();
            assertThat(detail).contains("app").doesNotContain("id=\"revoke\"").doesNotContain("id=\"save\"");
            assertThat(c.get("/console/api-keys/new").statusCode()).isEqualTo(403);
            HttpResponse<String> revoke = c.submit("/console/api-keys/" + app.key().id() + "/revoke", List.of());
            assertThat(revoke.statusCode()).isEqualTo(403);
            assertThat(revoke.body()).contains("lacks api_keys/manage");
            assertThat(f.keys.get(app.key().id()).isRevoked()).isFalse();
        }
    }

    @Test
    void edit_andRevoke_throughTheConsole() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            CreatedKey admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT, Grant.METRICS_VIEW);
            CreatedKey app = f.key("app", Grant.SMTP_INJECT);
            String path = "/console/api-keys/" + app.key().id();
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin.secret());
            c.get(path);

            HttpResponse<String> saved = c.submit(path, List.of("label", "app renamed", "grants", "smtp/inject",
                    "grants", "metrics/view", "valid_ips", "203.0.113.0/24", "expires", "",
                    "messages_per_minute", "120", "messages_per_day", "unlimited", "max_recipients", "",
                    "max_message_size", "5MiB", "sessions_per_key", "4"));
            assertThat(location(saved)).hasValue(path + "?saved");
            ApiKey k = f.keys.get(app.key().id());
            assertThat(k.label()).isEqualTo("app renamed");
            assertThat(k.grants()).containsExactlyInAnyOrder(Grant.SMTP_INJECT, Grant.METRICS_VIEW);
            assertThat(k.validIps().asStrings()).containsExactly("203.0.113.0/24");
            assertThat(k.limits()).isEqualTo(new KeyLimits(120L, 0L, null, 5L << 20, 4L));
            assertThat(c.get(path + "?saved").body()).contains("Changes saved.", "203.0.113.0/24",
                    "Messages per minute: 120", "Messages per day (UTC): unlimited",
                    "Recipients per message: Relay default", "Largest message: 5MiB", "value=\"5MiB\"",
                    "Concurrent SMTP sessions: 4");
            assertThat(f.keys.audit(k.id(), null, 1).get(0).detail()).contains("messages_per_minute: default -> 120",
                    "max_message_size: default -> 5MiB");

            // Emptying a field puts that limit back to the relay's default; a bad one is named.
            c.submit(path, List.of("label", "app renamed", "grants", "smtp/inject", "grants", "metrics/view",
                    "valid_ips", "203.0.113.0/24", "expires", "", "messages_per_minute", "120",
                    "messages_per_day", "", "max_recipients", "", "max_message_size", "5MiB"));
            assertThat(f.keys.get(k.id()).limits().messagesPerDay()).isNull();
            HttpResponse<String> bad = c.submit(path, List.of("label", "app renamed", "grants", "smtp/inject",
                    "messages_per_minute", "lots"));
            assertThat(bad.statusCode()).isEqualTo(422);
            assertThat(bad.body()).contains("Messages per minute: &#39;lots&#39; is not a whole number or &quot;unlimited&quot;");

            HttpResponse<String> revoked = c.submit(path + "/revoke", List.of());
            assertThat(location(revoked)).hasValue(path + "?revoked");
            assertThat(f.keys.get(app.key().id()).isRevoked()).isTrue();
            assertThat(c.get(path + "?revoked").body()).contains("status-revoked").doesNotContain("id=\"revoke\"");
            assertThat(c.get("/console/api-keys/nope").statusCode()).isEqualTo(404);
        }
    }
}
