package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.error;
import static io.keyrelay.admin.ApiAssertions.results;
import static io.keyrelay.admin.ApiAssertions.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API against what an attacker holding a restricted admin key tried: lifting its own restrictions or
 * minting a looser key, revoking a key with a GET and a method-override header, a valid_ips list too long for the
 * store, and labels that forge log fields or reorder text with bidi overrides. Over real HTTP, on H2 and PostgreSQL.
 */
class AdminHardeningIT {
    private static final String BASE = "/api/v1/api-keys";

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aKeyLimitedToOneMessageAMinute_canNeitherLiftItsOwnLimit_norMintAKeyWithout(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            var created = f.keys.create(new KeySpec("one a minute", EnumSet.of(Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.ANY, null, null, new KeyLimits(1L, null, null, null)), Actor.CLI);
            String admin = created.secret();
            String self = BASE + "/" + created.key().id();

            String d = error(f.json("PUT", self, admin, """
                    {"label":"one a minute","grants":["api_keys/manage","smtp/inject"],
                     "limits":{"messages_per_minute":0}}"""), 403, "1100");
            assertThat(d).startsWith("messages_per_minute: ").contains("is 1").contains("unlimited");
            error(f.json("PUT", self, admin, """
                    {"label":"one a minute","grants":["api_keys/manage","smtp/inject"],
                     "limits":{"messages_per_minute":null}}"""), 403, "1100"); // the default here is unlimited
            error(f.json("PUT", self, admin, """
                    {"label":"one a minute","grants":["api_keys/manage","smtp/inject"],
                     "limits":{"messages_per_minute":5}}"""), 403, "1100");
            assertThat(f.keys.get(created.key().id()).limits().messagesPerMinute()).isEqualTo(1L);

            // A label change leaves the limit as it is: allowed.
            results(f.json("PUT", self, admin, """
                    {"label":"renamed","grants":["api_keys/manage","smtp/inject"]}"""), 200);

            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"]}"""), 403, "1100")).startsWith("messages_per_minute: ");
            JsonNode child = results(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"],"limits":{"messages_per_minute":1}}"""), 200);
            assertThat(child.get("limits").get("messages_per_minute").asLong()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aKeyWithAnExpiryAndAllowedIps_canRemoveNeither_andItsChildrenLieWithinBoth(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            Instant expires = f.clock.instant().plus(Duration.ofDays(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            var created = f.keys.create(new KeySpec("day key", EnumSet.of(Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.parse(List.of("127.0.0.0/24", "::1")), null, expires), Actor.CLI);
            String admin = created.secret();
            String self = BASE + "/" + created.key().id();
            String later = expires.plus(Duration.ofDays(30)).toString();
            String sooner = expires.minus(Duration.ofHours(1)).toString();

            assertThat(error(f.json("PUT", self, admin, """
                    {"label":"day key","grants":["api_keys/manage","smtp/inject"],"expires_at":null}"""), 403, "1100"))
                    .startsWith("expires_at: ");
            assertThat(error(f.json("PUT", self, admin, """
                    {"label":"day key","grants":["api_keys/manage","smtp/inject"],"expires_at":"%s"}""".formatted(later)),
                    403, "1100")).startsWith("expires_at: ");
            assertThat(error(f.json("PUT", self, admin, """
                    {"label":"day key","grants":["api_keys/manage","smtp/inject"],"valid_ips":[]}"""), 403, "1100"))
                    .startsWith("valid_ips: ");
            ApiKey now = f.keys.get(created.key().id());
            assertThat(now.expiresAt()).isEqualTo(expires);
            assertThat(now.validIps().asStrings()).containsExactly("127.0.0.0/24", "::1");

            error(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"],"valid_ips":["127.0.0.5"]}"""), 403, "1100"); // no expiry
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"],"expires_at":"%s"}""".formatted(sooner)), 403, "1100"))
                    .startsWith("valid_ips: ").contains("any address");
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"],"expires_at":"%s","valid_ips":["127.0.0.0/16"]}"""
                    .formatted(sooner)), 403, "1100")).startsWith("valid_ips: "); // wider than the caller's /24
            JsonNode child = results(f.json("POST", BASE, admin, """
                    {"label":"child","grants":["smtp/inject"],"expires_at":"%s","valid_ips":["127.0.0.128/25","::1"]}"""
                    .formatted(sooner)), 200);
            assertThat(texts(child.get("valid_ips"))).containsExactly("127.0.0.128/25", "::1");

            // Narrowing itself is fine.
            results(f.json("PUT", self, admin, """
                    {"label":"day key","grants":["api_keys/manage","smtp/inject"],"valid_ips":["127.0.0.1"]}"""), 200);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void recipientsSizeAndSessions_areBoundedByTheCallersToo_butTheCliIsNot(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            var created = f.keys.create(new KeySpec("small", EnumSet.of(Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.ANY, null, null, new KeyLimits(null, null, 5L, 1L << 20, 2L)), Actor.CLI);
            String admin = created.secret();
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"c","grants":["smtp/inject"],"limits":{"max_recipients":6,"max_message_size":1024,
                     "sessions_per_key":1}}"""), 403, "1100")).startsWith("max_recipients: ");
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"c","grants":["smtp/inject"],"limits":{"max_recipients":5,"max_message_size":2097152,
                     "sessions_per_key":1}}"""), 403, "1100")).startsWith("max_message_size: ");
            assertThat(error(f.json("POST", BASE, admin, """
                    {"label":"c","grants":["smtp/inject"],"limits":{"max_recipients":5,"max_message_size":1024,
                     "sessions_per_key":0}}"""), 403, "1100")).startsWith("sessions_per_key: ").contains("unlimited");
            JsonNode ok = results(f.json("POST", BASE, admin, """
                    {"label":"c","grants":["smtp/inject"],"limits":{"max_recipients":5,"max_message_size":1024,
                     "sessions_per_key":2}}"""), 200);
            assertThat(ok.get("limits").get("sessions_per_key").asLong()).isEqualTo(2);

            // An operator on the server (the CLI's path into the key service) is bound by nothing of the kind.
            ApiKey lifted = f.keys.update(created.key().id(), KeyUpdate.none().withLimit(KeyLimits.Limit.SESSIONS_PER_KEY,
                    0L).withLimit(KeyLimits.Limit.MAX_RECIPIENTS, null), Actor.CLI);
            assertThat(lifted.limits().sessionsPerKey()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aGetWithMethodOverrideDelete_readsTheKey_andRevokesNothing(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            String victim = f.key("victim", Grant.SMTP_INJECT).key().id();
            HttpResponse<String> r = f.send(f.request(BASE + "/" + victim, admin)
                    .header("X-HTTP-Method-Override", "DELETE").GET().build());
            assertThat(results(r, 200).get("status").asText()).isEqualTo("active");
            HttpResponse<String> post = f.send(f.request(BASE + "/" + victim, admin)
                    .header("X-HTTP-Method-Override", "DELETE").header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build());
            assertThat(post.statusCode()).isEqualTo(405); // routed as the POST it is
            assertThat(f.keys.get(victim).isRevoked()).isFalse();
            for (String notASubaccount : List.of("+1", "1 2", "0x1")) { // digits only, no sign
                assertThat(error(f.send(f.request(BASE, admin).header("X-MSYS-SUBACCOUNT", notASubaccount).GET()
                        .build()), 400, "1200")).startsWith("X-MSYS-SUBACCOUNT: ");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void threeThousandValidIps_areA422NamingTheFieldAndTheLimit_notAnOutage(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            String ips = IntStream.range(0, 3000).mapToObj(i -> "\"10." + (i / 250) + "." + (i % 250) + ".1\"")
                    .collect(Collectors.joining(","));
            String d = error(f.json("POST", BASE, admin, """
                    {"label":"many","grants":["smtp/inject"],"valid_ips":[%s]}""".formatted(ips)), 422, "1400");
            assertThat(d).startsWith("valid_ips ").contains("3000").contains("400");
            String fits = IntStream.range(0, 400).mapToObj(i -> "\"2001:db8:ffff:ffff:ffff:ffff:" + Integer.toHexString(i)
                    + ":0/112\"").collect(Collectors.joining(","));
            results(f.json("POST", BASE, admin, """
                    {"label":"four hundred long ones","grants":["smtp/inject"],"valid_ips":[%s]}""".formatted(fits)), 200);
            error(f.json("POST", BASE, admin, """
                    {"label":"far future","grants":["smtp/inject"],"expires_at":"+100000-01-01T00:00:00Z"}"""), 422, "1400");
            error(f.json("POST", BASE, admin, """
                    {"label":"%s","grants":["smtp/inject"]}""".formatted("x".repeat(1025))), 422, "1400");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void labelsWithBidiOverridesOrControls_areRefused_andAQuoteCannotForgeALogField(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir); LogCapture log = LogCapture.of("io.keyrelay.keys")) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            for (String bad : List.of("invoice\\u202Etxt.exe", "a\\u2066b", "zero\\u200Bwidth", "bell\\u0007",
                    "lone \\ud800 surrogate", "line\\u2028sep")) {
                assertThat(error(f.json("POST", BASE, admin, """
                        {"label":"%s","grants":["smtp/inject"]}""".formatted(bad)), 422, "1400"))
                        .as(bad).startsWith("label contains U+");
            }
            JsonNode k = results(f.json("POST", BASE, admin, """
                    {"label":"app\\" key_id=forged grants=[api_keys/manage]","grants":["smtp/inject"]}"""), 200);
            String line = log.messages().stream().filter(m -> m.startsWith("API key created: id=" + k.get("id").asText()))
                    .findFirst().orElseThrow();
            assertThat(line).contains("label=\"app\\\" key_id=forged grants=[api_keys/manage]\" grants=[smtp/inject]");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theConsole_holdsTheSignedInKeyToTheSameRestrictions(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            var created = f.keys.create(new KeySpec("console admin", EnumSet.of(Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT),
                    IpAllowlist.ANY, null, null, new KeyLimits(null, 100L, null, null)), Actor.CLI);
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(created.secret());
            c.get("/console/api-keys/new");
            HttpResponse<String> looser = c.submit("/console/api-keys", List.of("label", "child", "grants",
                    "smtp/inject", "messages_per_day", "unlimited"));
            assertThat(looser.statusCode()).isEqualTo(403);
            assertThat(looser.body()).contains("messages_per_day: this API key");
            HttpResponse<String> ok = c.submit("/console/api-keys", List.of("label", "child", "grants", "smtp/inject",
                    "messages_per_day", "100"));
            assertThat(ok.statusCode()).as("created: redirected to its page").isEqualTo(303);
            String self = "/console/api-keys/" + created.key().id();
            c.get(self);
            HttpResponse<String> lift = c.submit(self, List.of("label", "console admin", "grants", "api_keys/manage",
                    "grants", "smtp/inject", "messages_per_day", ""));
            assertThat(lift.statusCode()).isEqualTo(403);
            assertThat(f.keys.get(created.key().id()).limits().messagesPerDay()).isEqualTo(100L);
        }
    }
}
