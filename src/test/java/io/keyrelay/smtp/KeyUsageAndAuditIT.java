package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.cli.Main;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.text.Times;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A key's life as the store records it, on H2 and PostgreSQL: last use and the last client address written in
 * the background, expiry enforced as the relay's clock passes it, failed AUTHs in the audit trail (reason, address,
 * short key; never the secret), and {@code keyrelay audit list} reading it all back. Each client address fails at
 * most twice, well under any AUTH throttle.
 */
@ParameterizedClass
@EnumSource(Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyUsageAndAuditIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    @Parameter
    Kind kind;

    /** Whole milliseconds: both stores keep at least that precision, so times compare exactly. */
    private final MutableClock clock = new MutableClock(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    private RelayHarness relay;

    @BeforeParameterizedClassInvocation
    void start(Kind kind) {
        relay = RelayHarness.builder(dir.resolve(kind.name())).passthrough().store(kind).clock(clock).start();
    }

    @AfterParameterizedClassInvocation
    void stop() {
        relay.close();
    }

    record Cli(int code, String out, String err) {}

    private Cli cli(Map<String, String> extraEnv, String... args) {
        Map<String, String> env = new HashMap<>(relay.db().env());
        env.putAll(extraEnv);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(code, out.toString(), err.toString());
    }

    private RawSmtpClient.Reply auth(String from, String username, String secret) {
        try (RawSmtpClient c = relay.connectFrom(from)) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            return c.command("AUTH PLAIN " + RawSmtpClient.plain(username, secret));
        }
    }

    private List<AuditEvent> failures(String client) {
        return relay.runtime().keyService().audit(null, AuditEvent.AUTH_FAILED, null, 1000).stream()
                .filter(e -> client.equals(e.clientAddress())).toList();
    }

    @Test
    void lastUse_isWrittenInTheBackground_withTheClientAddress_andShownEverywhere() throws Exception {
        CreatedKey key = relay.createKey("used");
        String id = key.key().id();
        auth("127.0.0.2", "SMTP_Injection", key.secret()).assertCode(235);
        auth("127.0.0.5", "SMTP_Injection", key.secret()).assertCode(235);
        assertThat(relay.runtime().keyService().get(id).lastUsedAt()).as("never written on the AUTH path").isNull();

        relay.runtime().usageRecorder().flush(); // what the relay does once a minute
        ApiKey stored = relay.runtime().keyService().get(id);
        assertThat(stored.lastUsedAt()).isEqualTo(clock.instant());
        assertThat(stored.lastUsedIp()).isEqualTo("127.0.0.5");

        JsonNode show = JSON.readTree(cli(Map.of(), "keys", "show", id, "--json").out());
        assertThat(show.get("last_used_at").asText()).isEqualTo(Times.iso(clock.instant()));
        assertThat(show.get("last_used_ip").asText()).isEqualTo("127.0.0.5");
        assertThat(cli(Map.of(), "keys", "show", id).out()).contains("last_used_ip:  127.0.0.5");
        JsonNode list = JSON.readTree(cli(Map.of(), "keys", "list", "--json").out());
        assertThat(list).anySatisfy(k -> {
            assertThat(k.get("id").asText()).isEqualTo(id);
            assertThat(k.get("last_used_ip").asText()).isEqualTo("127.0.0.5");
        });
        assertThat(cli(Map.of(), "keys", "list").out()).contains("LAST USED", Times.iso(clock.instant()));

        // A later use moves it on; an older one written late never moves it back.
        clock.advance(Duration.ofMinutes(2));
        auth("::1", "SMTP_Injection", key.secret()).assertCode(235);
        relay.runtime().usageRecorder().flush();
        assertThat(relay.runtime().keyService().get(id).lastUsedIp()).isEqualTo("0:0:0:0:0:0:0:1");
    }

    @Test
    void expiry_isEnforcedAtAuth_whenTheClockPassesIt_andAuditedAsExpired() {
        CreatedKey key = relay.createKey(new KeySpec("expires in an hour", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY,
                null, clock.instant().plus(Duration.ofHours(1))));
        auth("127.0.0.6", "SMTP_Injection", key.secret()).assertCode(235);
        clock.advance(Duration.ofMinutes(59));
        auth("127.0.0.6", "SMTP_Injection", key.secret()).assertCode(235);
        clock.advance(Duration.ofMinutes(1));
        auth("127.0.0.6", "SMTP_Injection", key.secret()).assertCode(535);
        await().atMost(Duration.ofSeconds(5)).until(() -> !failures("127.0.0.6").isEmpty());
        AuditEvent e = failures("127.0.0.6").get(0);
        assertThat(e.detail()).startsWith("reason=expired");
        assertThat(e.keyId()).isEqualTo(key.key().id());
        assertThat(e.shortKey()).isEqualTo(key.key().shortKey());
        assertThat(e.at()).isEqualTo(clock.instant());
        assertThat(relay.runtime().keyService().get(key.key().id()).status(clock.instant())).isEqualTo("expired");
    }

    @Test
    void authFailures_areAudited_withReasonAddressAndShortKey_neverTheSecret() {
        CreatedKey pinned = relay.createKey(new KeySpec("pinned", Set.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("127.0.0.2"), null, null));
        String unknown = "0123456789abcdef0123456789abcdef01234567";
        try (LogCapture log = LogCapture.of("io.keyrelay")) {
            auth("127.0.0.7", "SMTP_Injection", pinned.secret()).assertCode(535);
            auth("127.0.0.8", "SMTP_Injection", unknown).assertCode(535);
            // A client that puts its key in the username field by mistake: that key must not be written down.
            auth("127.0.0.9", pinned.secret(), unknown).assertCode(535);
            await().atMost(Duration.ofSeconds(5)).until(() -> !failures("127.0.0.9").isEmpty());
            assertThat(log.all()).doesNotContain(pinned.secret()).doesNotContain(unknown)
                    .doesNotContain(RawSmtpClient.plain("SMTP_Injection", pinned.secret()));
        }
        AuditEvent notAllowed = failures("127.0.0.7").get(0);
        assertThat(notAllowed.actor()).isEqualTo("smtp");
        assertThat(notAllowed.detail()).isEqualTo("reason=ip_not_allowed username=\"SMTP_Injection\"");
        assertThat(notAllowed.keyId()).isEqualTo(pinned.key().id());
        assertThat(notAllowed.shortKey()).isEqualTo(pinned.key().shortKey());
        AuditEvent noSuchKey = failures("127.0.0.8").get(0);
        assertThat(noSuchKey.detail()).startsWith("reason=unknown");
        assertThat(noSuchKey.keyId()).isNull();
        assertThat(noSuchKey.shortKey()).as("no short key for a key that does not exist").isNull();
        assertThat(failures("127.0.0.9").get(0).detail()).isEqualTo("reason=unknown username=\"****\"");
        assertThat(io.keyrelay.testing.Scrapes.withoutNode(relay.runtime().registry().scrape(),
                relay.config().cluster().nodeName())).contains("keyrelay_audit_events_dropped_total 0.0",
                "keyrelay_audit_queue_depth ");

        // Nowhere in the audit trail: neither secret, nor any part of it longer than its public short key.
        Cli all = cli(Map.of(), "audit", "list", "--json", "--limit", "1000");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).doesNotContain(pinned.secret().substring(0, 8)).doesNotContain(unknown.substring(0, 8));
    }

    @Test
    void auditList_filtersByKeyActionAndSince_asJsonAndAsATable() throws Exception {
        Cli created = cli(Map.of("USER", "alice"), "keys", "create", "--label", "audited", "--grant", "smtp/inject",
                "--json");
        assertThat(created.code()).as(created.err()).isZero();
        String id = JSON.readTree(created.out()).get("id").asText();
        String secret = JSON.readTree(created.out()).get("key").asText();
        Cli updated = cli(Map.of("USER", "root", "SUDO_USER", "bob"), "keys", "update", id,
                "--messages-per-minute", "10");
        assertThat(updated.code()).as(updated.err()).isZero();
        auth("127.0.0.10", "SMTP_Injection:X-MSYS-SUBACCOUNT=x", secret).assertCode(535);
        assertThat(cli(Map.of("USER", "carol"), "keys", "revoke", id).code()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> !failures("127.0.0.10").isEmpty());

        JsonNode events = JSON.readTree(cli(Map.of(), "audit", "list", "--key", id, "--json").out());
        // The CLI stamps its changes with the system clock, the relay with the test's: compare the CLI's among
        // themselves (newest first), and find the relay's by kind.
        List<JsonNode> changes = new java.util.ArrayList<>();
        events.forEach(e -> {
            if (e.get("action").asText().startsWith("key.")) {
                changes.add(e);
            }
        });
        assertThat(changes).extracting(e -> e.get("action").asText() + " by " + e.get("actor").asText())
                .containsExactly("key.revoked by cli:carol", "key.updated by cli:bob", "key.created by cli:alice");
        assertThat(changes.get(1).get("detail").asText()).isEqualTo("messages_per_minute: default -> 10");
        assertThat(events).filteredOn(e -> e.get("action").asText().equals("auth.failed")).singleElement()
                .satisfies(e -> {
                    assertThat(e.get("actor").asText()).isEqualTo("smtp");
                    assertThat(e.get("detail").asText()).startsWith("reason=bad_username");
                    assertThat(e.get("client_address").asText()).isEqualTo("127.0.0.10");
                    assertThat(e.get("short_key").asText()).isEqualTo(secret.substring(0, 4));
                });

        JsonNode failed = JSON.readTree(cli(Map.of(), "audit", "list", "--key", id, "--action", "auth.failed",
                "--json").out());
        assertThat(failed).hasSize(1);
        JsonNode future = JSON.readTree(cli(Map.of(), "audit", "list", "--key", id, "--since",
                clock.instant().plus(Duration.ofDays(1)).toString(), "--json").out());
        assertThat(future).isEmpty();
        JsonNode lastDay = JSON.readTree(cli(Map.of(), "audit", "list", "--key", id, "--since", "1d", "--json").out());
        assertThat(lastDay).hasSize(4);

        Cli table = cli(Map.of(), "audit", "list", "--key", id);
        assertThat(table.out().lines().findFirst().orElseThrow())
                .matches("TIME +ACTION +ACTOR +KEY +SHORT +CLIENT +DETAIL");
        assertThat(table.out()).contains("key.created", "cli:alice", id, secret.substring(0, 4))
                .doesNotContain(secret);
        Cli bad = cli(Map.of(), "audit", "list", "--action", "key.deleted");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--action: 'key.deleted' is not one of auth.failed, domain.checked").contains("key.created");
    }
}
