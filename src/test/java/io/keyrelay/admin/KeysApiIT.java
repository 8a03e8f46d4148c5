package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.body;
import static io.keyrelay.admin.ApiAssertions.error;
import static io.keyrelay.admin.ApiAssertions.fieldNames;
import static io.keyrelay.admin.ApiAssertions.results;
import static io.keyrelay.admin.ApiAssertions.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The REST key API over real HTTP, against a real H2 file and a real PostgreSQL. */
class KeysApiIT {
    private static final String BASE = "/api/v1/api-keys";
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_returnsTheSecretOnce_andListAndRetrieveNeverShowIt(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir); LogCapture logs = LogCapture.of("")) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT, Grant.METRICS_VIEW).secret();

            HttpResponse<String> created = f.json("POST", BASE, admin, """
                    {"label":"billing app","grants":["smtp/inject","metrics/view"],
                     "valid_ips":["127.0.0.1","2001:DB8::/32"],"unknown_field":"ignored"}""");
            JsonNode c = results(created, 200);
            String secret = c.get("key").asText();
            String id = c.get("id").asText();
            assertThat(secret).matches("[0-9a-f]{40}");
            assertThat(c.get("short_key").asText()).isEqualTo(secret.substring(0, 4));
            assertThat(c.get("label").asText()).isEqualTo("billing app");
            assertThat(texts(c.get("grants"))).containsExactly("metrics/view", "smtp/inject");
            assertThat(texts(c.get("valid_ips"))).containsExactly("127.0.0.1", "2001:db8::/32");
            assertThat(c.get("subaccount_id").isNull()).isTrue();
            assertThat(c.get("status").asText()).isEqualTo("active");
            assertThat(created.headers().firstValue("Cache-Control")).hasValue("no-store");
            // Times to the second, ISO 8601 UTC, in every answer (never 6 fraction digits here and 9 there).
            for (String field : List.of("created_at", "updated_at")) {
                assertThat(c.get(field).asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
            }

            ApiKey stored = f.keys.get(id);
            HttpResponse<String> list = f.get(BASE, admin);
            JsonNode all = results(list, 200);
            assertThat(all).extracting(n -> n.get("id").asText()).contains(id);
            HttpResponse<String> one = f.get(BASE + "/" + id, admin);
            JsonNode k = results(one, 200);
            assertThat(k.get("label").asText()).isEqualTo("billing app");
            assertThat(k.has("key")).isFalse();
            assertThat(k.get("created_at").asText()).isEqualTo(c.get("created_at").asText());
            for (HttpResponse<String> r : List.of(list, one)) {
                assertThat(r.body()).doesNotContain(secret).doesNotContain(stored.keyHash()).doesNotContain("key_hash");
            }

            // The new key works for what it was given (metrics/view) and nothing else.
            assertThat(f.get("/metrics", "Bearer " + secret).statusCode()).isEqualTo(200);
            error(f.get(BASE, secret), 403, "1100");
            // No log line carries either key, nor an Authorization header.
            assertThat(logs.all()).contains("API key created").doesNotContain(secret).doesNotContain(admin)
                    .doesNotContain("Authorization:");
            // And the audit trail names the admin key that created it.
            ApiKey adminKey = f.keys.list().stream().filter(x -> x.label().equals("admin")).findFirst().orElseThrow();
            assertThat(f.keys.audit(id, null, 10)).singleElement().satisfies(a -> {
                assertThat(a.action()).isEqualTo(AuditEvent.KEY_CREATED);
                assertThat(a.actor()).isEqualTo("key:" + adminKey.id() + " (" + adminKey.shortKey() + ")");
                assertThat(a.clientAddress()).as("and the address the request came from").isEqualTo("127.0.0.1");
            });
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void update_changesWhatIsGiven_andDelete_revokesSoTheKeyStopsWorking(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT, Grant.API_KEYS_VIEW).secret();
            CreatedKey app = f.key("app", Grant.SMTP_INJECT);
            String path = BASE + "/" + app.key().id();

            JsonNode u = results(f.json("PUT", path, admin, """
                    {"label":"app v2","grants":["smtp/inject","api_keys/view"],"valid_ips":["10.0.0.0/8"],
                     "expires_at":"2099-01-31T00:00:00Z"}"""), 200);
            assertThat(u.get("label").asText()).isEqualTo("app v2");
            assertThat(texts(u.get("grants"))).containsExactly("api_keys/view", "smtp/inject");
            assertThat(texts(u.get("valid_ips"))).containsExactly("10.0.0.0/8");
            assertThat(u.get("expires_at").asText()).isEqualTo("2099-01-31T00:00:00Z");

            // label and grants are required on update, as SparkPost requires them.
            assertThat(error(f.json("PUT", path, admin, "{\"grants\":[\"smtp/inject\"]}"), 422, "1400"))
                    .startsWith("label:");
            assertThat(error(f.json("PUT", path, admin, "{\"label\":\"x\"}"), 422, "1400")).startsWith("grants:");
            // Absent optional fields stay; null clears the expiry and an empty list allows any address again.
            JsonNode u2 = results(f.json("PUT", path, admin,
                    "{\"label\":\"app v3\",\"grants\":[\"smtp/inject\"],\"expires_at\":null,\"valid_ips\":[]}"), 200);
            assertThat(u2.get("label").asText()).isEqualTo("app v3");
            assertThat(texts(u2.get("grants"))).containsExactly("smtp/inject");
            assertThat(u2.get("expires_at").isNull()).isTrue();
            assertThat(u2.get("valid_ips")).isEmpty();
            assertThat(f.authenticator.authenticate(app.secret(), LOOPBACK, Grant.SMTP_INJECT))
                    .isInstanceOf(AuthDecision.Accepted.class);

            HttpResponse<String> deleted = f.json("DELETE", path, admin, null);
            assertThat(deleted.statusCode()).isEqualTo(204);
            assertThat(deleted.body()).isEmpty();
            JsonNode after = results(f.get(path, admin), 200);
            assertThat(after.get("status").asText()).isEqualTo("revoked");
            assertThat(after.get("revoked_at").isNull()).isFalse();
            // What SMTP AUTH asks: the revoked key is refused at once (this process's cache was told).
            assertThat(f.authenticator.authenticate(app.secret(), LOOPBACK, Grant.SMTP_INJECT))
                    .isEqualTo(new AuthDecision.Denied(AuthDecision.Reason.REVOKED, f.keys.get(app.key().id())));

            assertThat(f.json("DELETE", path, admin, null).statusCode()).as("revoking twice is harmless").isEqualTo(204);
            assertThat(error(f.json("PUT", path, admin, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"]}"), 409,
                    "1602")).contains("revoked");

            // Every change is in the audit trail: who (the admin key), what, when; never the secret.
            assertThat(f.keys.audit(app.key().id(), null, 10)).extracting(AuditEvent::action)
                    .containsExactly(AuditEvent.KEY_REVOKED, AuditEvent.KEY_UPDATED, AuditEvent.KEY_UPDATED,
                            AuditEvent.KEY_CREATED);
            assertThat(f.keys.audit(app.key().id(), null, 10)).allSatisfy(a -> {
                assertThat(a.detail() == null ? "" : a.detail()).doesNotContain(app.secret());
                assertThat(a.at()).isNotNull();
            });
            assertThat(f.keys.audit(app.key().id(), null, 10).get(2).detail()).contains("label: \"app\" -> \"app v2\"");
            assertThat(f.keys.audit(app.key().id(), null, 10).get(0).actor()).startsWith("key:");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void limits_areSetOnCreate_changedOnUpdate_andShownByGetAndList(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            JsonNode c = results(f.json("POST", BASE, admin, """
                    {"label":"limited","grants":["smtp/inject"],
                     "limits":{"messages_per_minute":100,"messages_per_day":0,"max_message_size":1048576}}"""), 200);
            JsonNode limits = c.get("limits");
            assertThat(fieldNames(limits)).containsExactly("messages_per_minute", "messages_per_day", "max_recipients",
                    "max_message_size", "sessions_per_key");
            assertThat(limits.get("messages_per_minute").asLong()).isEqualTo(100);
            assertThat(limits.get("messages_per_day").asLong()).isZero();
            assertThat(limits.get("max_recipients").isNull()).isTrue();
            assertThat(limits.get("max_message_size").asLong()).isEqualTo(1L << 20);
            String id = c.get("id").asText();
            String path = BASE + "/" + id;

            // A limit left out stays; null puts it back to the relay's default.
            JsonNode u = results(f.json("PUT", path, admin, """
                    {"label":"limited","grants":["smtp/inject"],"limits":{"max_recipients":5,"messages_per_minute":null}}
                    """), 200).get("limits");
            assertThat(u.get("messages_per_minute").isNull()).isTrue();
            assertThat(u.get("messages_per_day").asLong()).isZero();
            assertThat(u.get("max_recipients").asLong()).isEqualTo(5);
            JsonNode untouched = results(f.json("PUT", path, admin, "{\"label\":\"limited\",\"grants\":[\"smtp/inject\"]}"),
                    200).get("limits");
            assertThat(untouched).isEqualTo(u);
            assertThat(results(f.get(path, admin), 200).get("limits")).isEqualTo(u);
            assertThat(results(f.get(BASE, admin), 200)).filteredOn(k -> k.get("id").asText().equals(id))
                    .singleElement().satisfies(k -> {
                        assertThat(k.get("limits")).isEqualTo(u);
                        assertThat(k.has("last_used_ip")).isTrue();
                    });
            assertThat(f.keys.audit(id, null, 5).get(0).detail()).isEqualTo(
                    "messages_per_minute: 100 -> default; max_recipients: default -> 5");

            assertThat(error(f.json("PUT", path, admin, """
                    {"label":"x","grants":["smtp/inject"],"limits":{"max_recipients":0}}"""), 422, "1400"))
                    .isEqualTo("max_recipients 0 is out of range (1 to 100000)");
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"x","grants":["smtp/inject"],"limits":{"messages_per_day":"many"}}"""), 422, "1400"))
                    .startsWith("messages_per_day: must be a whole number (0 = unlimited)");
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"x","grants":["smtp/inject"],"limits":[100]}"""), 422, "1400")).startsWith("limits:");
            assertThat(f.keys.get(id).limits()).isEqualTo(new io.keyrelay.keys.KeyLimits(null, 0L, 5L, 1L << 20));
        }
    }

    @Test
    void everyAuthorizationForm_isAccepted() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String key = f.key("viewer", Grant.API_KEYS_VIEW).secret();
            String basic = Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8));
            for (String header : List.of(key, "Bearer " + key, "Basic " + basic, "  " + key + "  ")) {
                assertThat(f.get(BASE, header).statusCode()).as(header).isEqualTo(200);
            }
        }
    }

    @Test
    void refusedCallers_get401or403_inSparkPostsShape_withoutTheReason() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String manage = f.key("manage", Grant.API_KEYS_MANAGE).secret();
            String view = f.key("view", Grant.API_KEYS_VIEW).secret();
            String smtp = f.key("smtp", Grant.SMTP_INJECT).secret();
            CreatedKey revoked = f.key("revoked", Grant.API_KEYS_MANAGE);
            f.keys.revoke(revoked.key().id(), io.keyrelay.keys.Actor.CLI);
            String elsewhere = f.key(new KeySpec("elsewhere", Set.of(Grant.API_KEYS_MANAGE),
                    IpAllowlist.parseText("127.0.0.2"), null, null)).secret();
            String expiring = f.key(new KeySpec("expiring", Set.of(Grant.API_KEYS_MANAGE), IpAllowlist.ANY, null,
                    f.clock.instant().plus(Duration.ofHours(1)))).secret();

            assertThat(error(f.get(BASE, null), 401, "1100")).contains("Authorization", "api_keys/view");
            assertThat(error(f.get(BASE, "Bearer " + "0".repeat(40)), 401, "1100")).isEqualTo(
                    "the API key presented is not valid");
            assertThat(error(f.get(BASE, revoked.secret()), 401, "1100")).isEqualTo(
                    "the API key presented is not valid");
            assertThat(error(f.get(BASE, "Basic !!!"), 401, "1100")).contains("Authorization");
            assertThat(error(f.get(BASE, smtp), 403, "1100")).contains("api_keys/view or api_keys/manage");
            assertThat(error(f.json("POST", BASE, view, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"]}"), 403,
                    "1100")).contains("api_keys/manage");
            assertThat(error(f.json("DELETE", BASE + "/whatever", view, null), 403, "1100")).contains("api_keys/manage");
            assertThat(error(f.get(BASE, elsewhere), 403, "1100")).contains("127.0.0.1");

            assertThat(f.get(BASE, expiring).statusCode()).isEqualTo(200);
            f.clock.advance(Duration.ofHours(2));
            error(f.get(BASE, expiring), 401, "1100");

            assertThat(f.registry.scrape()).contains(
                    "keyrelay_admin_auth_total{reason=\"revoked\",result=\"denied\",surface=\"api\"} 1.0",
                    "keyrelay_admin_auth_total{reason=\"ip_not_allowed\",result=\"denied\",surface=\"api\"} 1.0",
                    "keyrelay_admin_auth_total{reason=\"missing_grant\",result=\"denied\",surface=\"api\"} 3.0",
                    "keyrelay_admin_auth_total{reason=\"expired\",result=\"denied\",surface=\"api\"} 1.0");
            assertThat(f.get(BASE, manage).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void badRequests_areRefused_namingTheField() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();

            assertThat(error(f.json("POST", BASE, admin,
                    "{\"label\":\"a\",\"grants\":[\"smtp/inject\"],\"label\":\"b\"}"), 400, "1200"))
                    .isEqualTo("label: given more than once in the request body");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"a\",\"grants\":[\"smtp/inject\"],"
                    + "\"limits\":{\"max_recipients\":5,\"max_recipients\":6}}"), 400, "1200"))
                    .startsWith("max_recipients: given more than once");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"a\",\"grants\":[\"smtp/inject\"],"
                    + "\"valid_ips\":[\"10.0.0.300\",\"192.0.2.0/24\",\"x\"]}"), 422, "1400"))
                    .as("every bad entry at once").contains("'10.0.0.300'", "'x'").startsWith("valid_ips: 2 entries");
            assertThat(f.keys.list()).hasSize(1);
            assertThat(error(f.json("POST", BASE, admin, "{\"grants\":[\"smtp/inject\"]}"), 422, "1400"))
                    .startsWith("label:");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"x\"}"), 422, "1400")).startsWith("grants:");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"x\",\"grants\":[\"smtp/inject\",\"nope\"]}"),
                    422, "1400")).startsWith("grants: unknown grant 'nope'").contains("smtp/inject");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"x\",\"grants\":[]}"), 422, "1400"))
                    .startsWith("grants");
            assertThat(error(f.json("POST", BASE, admin,
                    "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"valid_ips\":[\"10.0.0.1/8\"]}"), 422, "1400"))
                    .startsWith("valid_ips:").contains("10.0.0.1/8");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":7,\"grants\":[\"smtp/inject\"]}"), 422, "1400"))
                    .isEqualTo("label: must be a string");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"x\",\"grants\":\"smtp/inject\"}"), 422,
                    "1400")).isEqualTo("grants: must be an array of strings");
            assertThat(error(f.json("POST", BASE, admin,
                    "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"expires_at\":\"2001-01-01T00:00:00Z\"}"), 422,
                    "1400")).startsWith("expires_at");
            assertThat(error(f.json("POST", BASE, admin,
                    "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"expires_at\":\"tomorrow\"}"), 422, "1400"))
                    .startsWith("expires_at: 'tomorrow'");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"x\",\"label\":\"y\"}"), 400, "1200"))
                    .isEqualTo("label: given more than once in the request body");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":"), 400, "1200")).contains("not valid JSON");
            assertThat(error(f.json("POST", BASE, admin, "[1,2]"), 400, "1200")).contains("JSON object");
            assertThat(error(f.send(f.request(BASE, admin).header("Content-Type", "text/plain")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build()), 415, "1700"))
                    .contains("Content-Type");
            assertThat(error(f.json("POST", BASE, admin, "{\"label\":\"" + "x".repeat(70_000) + "\"}"), 413, "1300"))
                    .contains("too large");
            assertThat(error(f.get(BASE + "?grant=nope", admin), 400, "1200")).startsWith("grant:");
            assertThat(error(f.get(BASE + "/no-such-id", admin), 404, "1600")).contains("no-such-id");
            assertThat(error(f.get("/api/v1/nothing-here", admin), 404, "1101")).contains("/api/v1/nothing-here");
            assertThat(error(f.json("PATCH", BASE, admin, "{}"), 405, "1102")).contains("PATCH");
            assertThat(error(f.get(BASE, admin + "0"), 401, "1100")).isNotBlank();
        }
    }

    @Test
    void listFilter_byGrant() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            f.key("smtp one", Grant.SMTP_INJECT);
            f.key("smtp two", Grant.SMTP_INJECT, Grant.METRICS_VIEW);
            JsonNode r = results(f.get(BASE + "?grant=smtp/inject", admin), 200);
            assertThat(r).extracting(n -> n.get("label").asText()).containsExactlyInAnyOrder("smtp one", "smtp two");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void subaccounts_scopeWhatACallerSeesAndCreates(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String primary = f.key("primary admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            CreatedKey primaryApp = f.key("primary app", Grant.SMTP_INJECT);
            String sub7 = f.key(new KeySpec("sub 7 admin", EnumSet.of(Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.ANY, 7L, null)).secret();

            // A primary key naming subaccount 7 creates into it and sees only its keys.
            JsonNode made = results(f.send(f.request(BASE, primary).header("Content-Type", "application/json")
                    .header("X-MSYS-SUBACCOUNT", "7")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"label\":\"sub 7 app\",\"grants\":[\"smtp/inject\"]}")).build()), 200);
            assertThat(made.get("subaccount_id").asLong()).isEqualTo(7);
            JsonNode only7 = results(f.send(f.request(BASE, primary).header("X-MSYS-SUBACCOUNT", "7").GET().build()), 200);
            assertThat(only7).extracting(n -> n.get("label").asText()).containsExactlyInAnyOrder("sub 7 admin",
                    "sub 7 app");
            assertThat(results(f.get(BASE, primary), 200)).hasSize(4);

            // A subaccount's key sees and creates only in its subaccount; other keys do not exist for it.
            assertThat(results(f.get(BASE, sub7), 200)).extracting(n -> n.get("label").asText())
                    .containsExactlyInAnyOrder("sub 7 admin", "sub 7 app");
            error(f.get(BASE + "/" + primaryApp.key().id(), sub7), 404, "1600");
            error(f.json("DELETE", BASE + "/" + primaryApp.key().id(), sub7, null), 404, "1600");
            assertThat(f.keys.get(primaryApp.key().id()).isRevoked()).isFalse();
            JsonNode own = results(f.json("POST", BASE, sub7, "{\"label\":\"made by sub 7\",\"grants\":[\"smtp/inject\"]}"),
                    200);
            assertThat(own.get("subaccount_id").asLong()).isEqualTo(7);
            assertThat(error(f.send(f.request(BASE, sub7).header("X-MSYS-SUBACCOUNT", "8").GET().build()), 403, "1100"))
                    .contains("subaccount 7", "subaccount 8");
            assertThat(error(f.json("POST", BASE, sub7,
                    "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"subaccount_id\":8}"), 403, "1100"))
                    .contains("subaccount 8");
            // subaccount_id in the body works like the header for a primary key; the two must agree.
            JsonNode viaBody = results(f.json("POST", BASE, primary,
                    "{\"label\":\"sub 9 app\",\"grants\":[\"smtp/inject\"],\"subaccount_id\":9}"), 200);
            assertThat(viaBody.get("subaccount_id").asLong()).isEqualTo(9);
            assertThat(error(f.send(f.request(BASE, primary).header("Content-Type", "application/json")
                    .header("X-MSYS-SUBACCOUNT", "7").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"subaccount_id\":9}")).build()), 422,
                    "1400")).startsWith("subaccount_id:");
            assertThat(error(f.json("POST", BASE, primary,
                    "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],\"subaccount_id\":-1}"), 422, "1400"))
                    .startsWith("subaccount_id:");
            assertThat(error(f.send(f.request(BASE, primary).header("X-MSYS-SUBACCOUNT", "seven").GET().build()), 400,
                    "1200")).startsWith("X-MSYS-SUBACCOUNT: 'seven'");
        }
    }

    @Test
    void grantEscalation_isRefused_onCreateAndUpdate() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String manageOnly = f.key("manage only", Grant.API_KEYS_MANAGE).secret();
            CreatedKey smtpKey = f.key("smtp app", Grant.SMTP_INJECT);
            String path = BASE + "/" + smtpKey.key().id();

            assertThat(error(f.json("POST", BASE, manageOnly, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"]}"),
                    403, "1100")).isEqualTo("grants: this API key cannot hand out smtp/inject: a key can only give"
                    + " grants it holds itself");
            assertThat(error(f.json("POST", BASE, manageOnly,
                    "{\"label\":\"x\",\"grants\":[\"api_keys/manage\",\"metrics/view\",\"smtp/inject\"]}"), 403,
                    "1100")).contains("metrics/view, smtp/inject");
            assertThat(f.keys.list()).hasSize(2);
            // Handing out what it holds is fine, and so is keeping a grant the edited key already had.
            results(f.json("POST", BASE, manageOnly, "{\"label\":\"y\",\"grants\":[\"api_keys/manage\"]}"), 200);
            results(f.json("PUT", path, manageOnly, "{\"label\":\"smtp app 2\",\"grants\":[\"smtp/inject\"]}"), 200);
            assertThat(error(f.json("PUT", path, manageOnly,
                    "{\"label\":\"smtp app 2\",\"grants\":[\"smtp/inject\",\"metrics/view\"]}"), 403, "1100"))
                    .contains("metrics/view");
            assertThat(f.keys.get(smtpKey.key().id()).grants()).containsExactly(Grant.SMTP_INJECT);
        }
    }

    @Test
    void grantsEndpoint_listsEveryGrant() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String view = f.key("view", Grant.API_KEYS_VIEW).secret();
            JsonNode grants = results(f.get("/api/v1/authenticate/grants", view), 200);
            assertThat(grants).extracting(g -> g.get("key").asText()).containsExactlyInAnyOrder("api_keys/manage",
                    "api_keys/view", "metrics/view", "queue/manage", "queue/view", "sending_domains/manage",
                    "sending_domains/view", "smtp/inject", "transmissions/modify", "transmissions/view");
            assertThat(grants).allSatisfy(g -> assertThat(g.get("description").asText()).isNotBlank());
            error(f.get("/api/v1/authenticate/grants", null), 401, "1100");
        }
    }

    @Test
    void storeUnreachable_isA503_neverA401() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String cached = f.key("cached", Grant.API_KEYS_VIEW).secret();
            String uncached = f.key("uncached", Grant.API_KEYS_VIEW).secret();
            assertThat(f.get(BASE, cached).statusCode()).isEqualTo(200);
            f.database.close();
            // An uncached key cannot be checked: retry later, not "invalid".
            assertThat(error(f.get(BASE, uncached), 503, "1502")).contains("retry");
            // A cached key is still accepted, but listing needs the store.
            assertThat(error(f.get(BASE, cached), 503, "1502")).contains("retry");
        }
    }
}
