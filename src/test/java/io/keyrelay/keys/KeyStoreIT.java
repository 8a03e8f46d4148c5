package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.benmanes.caffeine.cache.Ticker;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The key store, service, cache and change notices against a real H2 file and a real PostgreSQL. */
class KeyStoreIT {
    @TempDir
    Path dir;

    private static final Clock CLOCK = Clock.systemUTC();

    private static KeySpec spec(String label, Grant... grants) {
        return new KeySpec(label, EnumSet.copyOf(List.of(grants)), IpAllowlist.ANY, null, null);
    }

    private record Env(TestDatabases.TestDb testDb, Database db, JdbcKeyStore store, KeyService service)
            implements AutoCloseable {
        @Override
        public void close() {
            db.close();
            testDb.close();
        }
    }

    private Env open(Kind kind) {
        TestDatabases.TestDb t = TestDatabases.create(kind, dir);
        Database db = Database.open(t.db(), t.dataDir());
        db.migrate();
        JdbcKeyStore store = new JdbcKeyStore(db.dataSource());
        return new Env(t, db, store, new KeyService(store, KeyHasher.sha256(), new KeyGenerator(), CLOCK));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_storesOnlyTheHash_andRoundTripsEveryField(Kind kind) throws Exception {
        String secret;
        try (Env e = open(kind)) {
            Instant expires = Instant.now().plus(Duration.ofDays(30)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            CreatedKey c = e.service.create(new KeySpec("billing app", EnumSet.of(Grant.SMTP_INJECT, Grant.API_KEYS_VIEW),
                    IpAllowlist.parseText("203.0.113.0/24, 2001:db8::/32"), 7L, expires), Actor.CLI);
            assertThat(c.secret()).matches("[0-9a-f]{40}");
            secret = c.secret();

            ApiKey k = e.service.get(c.key().id());
            assertThat(k.label()).isEqualTo("billing app");
            assertThat(k.shortKey()).isEqualTo(c.secret().substring(0, 4));
            assertThat(k.keyHash()).isEqualTo(KeyHasher.sha256().hash(c.secret()));
            assertThat(k.grants()).containsExactlyInAnyOrder(Grant.SMTP_INJECT, Grant.API_KEYS_VIEW);
            assertThat(k.validIps().asStrings()).containsExactly("203.0.113.0/24", "2001:db8::/32");
            assertThat(k.subaccountId()).isEqualTo(7L);
            assertThat(k.expiresAt()).isEqualTo(expires);
            assertThat(k.revokedAt()).isNull();
            assertThat(e.store.findByHash(k.keyHash())).contains(k);

            assertThat(everyStoredText(e.db)).as("no table holds the raw key")
                    .noneMatch(v -> v.contains(c.secret()));
            assertThat(e.store.audit(k.id(), null, 10)).singleElement()
                    .satisfies(a -> {
                        assertThat(a.action()).isEqualTo(AuditEvent.KEY_CREATED);
                        assertThat(a.actor()).isEqualTo("cli");
                        assertThat(a.detail()).doesNotContain(c.secret());
                    });
        }
        if (kind == Kind.H2) {
            // And not in the closed database file's bytes either (as text, or as the 20 raw bytes).
            byte[] raw = java.util.HexFormat.of().parseHex(secret);
            try (var files = Files.list(dir)) {
                List<Path> dbFiles = files.filter(p -> p.toString().endsWith(".mv.db")).toList();
                assertThat(dbFiles).isNotEmpty();
                for (Path f : dbFiles) {
                    String bytes = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
                    assertThat(bytes).doesNotContain(secret)
                            .doesNotContain(new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1));
                }
            }
        }
    }

    /** Every text value in every table of the schema. */
    private static List<String> everyStoredText(Database db) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    String schema = rs.getString("TABLE_SCHEM");
                    if (schema != null && (schema.equalsIgnoreCase("INFORMATION_SCHEMA")
                            || schema.equalsIgnoreCase("pg_catalog"))) {
                        continue;
                    }
                    tables.add((schema == null ? "" : "\"" + schema + "\".") + "\"" + rs.getString("TABLE_NAME") + "\"");
                }
            }
            assertThat(tables).hasSizeGreaterThanOrEqualTo(3);
            for (String t : tables) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + t)) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        for (int i = 1; i <= n; i++) {
                            String v = rs.getString(i);
                            if (v != null) {
                                out.add(v);
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void update_andRevoke_areAudited_andRevokedKeysCannotChange(Kind kind) {
        try (Env e = open(kind)) {
            CreatedKey c = e.service.create(spec("a", Grant.SMTP_INJECT), Actor.CLI);
            ApiKey u = e.service.update(c.key().id(), KeyUpdate.none().withLabel("b")
                    .withGrants(Set.of(Grant.API_KEYS_MANAGE)).withValidIps(IpAllowlist.parseText("127.0.0.2")),
                    new Actor("key:x"));
            assertThat(u.label()).isEqualTo("b");
            assertThat(e.service.get(c.key().id()).grants()).containsExactly(Grant.API_KEYS_MANAGE);
            assertThat(e.service.get(c.key().id()).validIps().asStrings()).containsExactly("127.0.0.2");

            ApiKey r = e.service.revoke(c.key().id(), Actor.CLI);
            assertThat(r.isRevoked()).isTrue();
            assertThat(e.service.get(c.key().id()).status(Instant.now())).isEqualTo("revoked");
            assertThatThrownBy(() -> e.service.update(c.key().id(), KeyUpdate.none().withLabel("c"), Actor.CLI))
                    .isInstanceOf(KeyValidationException.class).hasMessageContaining("revoked");

            List<AuditEvent> audit = e.store.audit(c.key().id(), null, 10);
            assertThat(audit).extracting(AuditEvent::action)
                    .containsExactly(AuditEvent.KEY_REVOKED, AuditEvent.KEY_UPDATED, AuditEvent.KEY_CREATED);
            assertThat(audit.get(1).detail()).contains("label: \"a\" -> \"b\"").contains("valid_ips");
            assertThat(audit.get(1).actor()).isEqualTo("key:x");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void limits_roundTrip_areChangedOneByOne_surviveRevocation_andAreAudited(Kind kind) {
        try (Env e = open(kind)) {
            KeyLimits limits = new KeyLimits(100L, 0L, null, 10L << 20);
            CreatedKey c = e.service.create(new KeySpec("limited", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                    null, limits), Actor.CLI);
            assertThat(e.service.get(c.key().id()).limits()).isEqualTo(limits);
            assertThat(e.store.findByHash(c.key().keyHash()).orElseThrow().limits()).isEqualTo(limits);
            assertThat(e.store.audit(c.key().id(), null, 1).get(0).detail())
                    .contains("messages_per_minute=100 messages_per_day=unlimited max_message_size=10MiB");

            ApiKey u = e.service.update(c.key().id(), KeyUpdate.none()
                    .withLimit(KeyLimits.Limit.MAX_RECIPIENTS, 7L)
                    .withLimit(KeyLimits.Limit.MESSAGES_PER_MINUTE, null), Actor.CLI);
            KeyLimits expected = new KeyLimits(null, 0L, 7L, 10L << 20);
            assertThat(u.limits()).isEqualTo(expected);
            assertThat(e.service.get(c.key().id()).limits()).isEqualTo(expected);
            assertThat(e.store.audit(c.key().id(), null, 1).get(0).detail())
                    .isEqualTo("messages_per_minute: 100 -> default; max_recipients: default -> 7");

            e.service.revoke(c.key().id(), Actor.CLI);
            assertThat(e.service.get(c.key().id()).limits()).isEqualTo(expected);
            // Keys made before version 2 of the schema have no limits of their own.
            CreatedKey plain = e.service.create(spec("plain", Grant.SMTP_INJECT), Actor.CLI);
            assertThat(e.service.get(plain.key().id()).limits()).isEqualTo(KeyLimits.DEFAULTS);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void authFailures_areAppendedInOneBatch_andReadBackByAction(Kind kind) {
        try (Env e = open(kind)) {
            CreatedKey c = e.service.create(spec("target", Grant.SMTP_INJECT), Actor.CLI);
            Instant t0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            List<AuditEvent> failures = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                failures.add(new AuditEvent(null, t0.plusMillis(i), "smtp", AuditEvent.AUTH_FAILED,
                        i % 2 == 0 ? c.key().id() : null, i % 2 == 0 ? c.key().shortKey() : null, "203.0.113." + i % 7,
                        "reason=" + (i % 2 == 0 ? "ip_not_allowed" : "unknown") + " username=\"x\""));
            }
            e.store.appendAudit(failures);
            assertThat(e.store.audit(null, AuditEvent.AUTH_FAILED, null, 1000)).hasSize(250);
            assertThat(e.store.audit(c.key().id(), AuditEvent.AUTH_FAILED, null, 1000)).hasSize(125);
            assertThat(e.store.audit(c.key().id(), null, null, 1000)).hasSize(126); // and its creation
            List<AuditEvent> recent = e.store.audit(null, AuditEvent.AUTH_FAILED, t0.plusMillis(240), 1000);
            assertThat(recent).hasSize(10);
            assertThat(recent.get(0).at()).isEqualTo(t0.plusMillis(249)); // newest first
            assertThat(recent.get(0).clientAddress()).isEqualTo("203.0.113." + 249 % 7);
            assertThat(e.store.audit(null, null, null, 5)).hasSize(5);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void list_filtersBySubaccount_andUnknownIdIsNotFound(Kind kind) {
        try (Env e = open(kind)) {
            e.service.create(spec("primary", Grant.SMTP_INJECT), Actor.CLI);
            e.service.create(new KeySpec("sub7", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, 7L, null), Actor.CLI);
            e.service.create(new KeySpec("sub8", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, 8L, null), Actor.CLI);
            assertThat(e.service.list()).extracting(ApiKey::label).containsExactly("primary", "sub7", "sub8");
            assertThat(e.service.list(7L, false)).extracting(ApiKey::label).containsExactly("sub7");
            assertThat(e.service.list(null, true)).extracting(ApiKey::label).containsExactly("primary");
            assertThatThrownBy(() -> e.service.get("00000000-0000-0000-0000-000000000000"))
                    .isInstanceOf(KeyNotFoundException.class);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void validation_namesTheField(Kind kind) {
        try (Env e = open(kind)) {
            assertThatThrownBy(() -> e.service.create(spec(" ", Grant.SMTP_INJECT), Actor.CLI))
                    .isInstanceOf(KeyValidationException.class).extracting("field").isEqualTo("label");
            assertThatThrownBy(() -> e.service.create(new KeySpec("x", Set.of(), IpAllowlist.ANY, null, null), Actor.CLI))
                    .extracting("field").isEqualTo("grants");
            assertThatThrownBy(() -> e.service.create(new KeySpec("x", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                    Instant.now().minusSeconds(5)), Actor.CLI)).extracting("field").isEqualTo("expires_at");
            assertThatThrownBy(() -> e.service.create(new KeySpec("x", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, -1L,
                    null), Actor.CLI)).extracting("field").isEqualTo("subaccount_id");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void recordUsage_writesLastUsed_andNeverGoesBackInTime(Kind kind) {
        try (Env e = open(kind)) {
            CreatedKey c = e.service.create(spec("a", Grant.SMTP_INJECT), Actor.CLI);
            Instant t1 = Instant.parse("2030-01-01T00:00:00Z");
            e.store.recordUsage(List.of(new KeyStore.Usage(c.key().id(), t1, "127.0.0.2")));
            e.store.recordUsage(List.of(new KeyStore.Usage(c.key().id(), t1.minusSeconds(60), "127.0.0.3")));
            ApiKey k = e.service.get(c.key().id());
            assertThat(k.lastUsedAt()).isEqualTo(t1);
            assertThat(k.lastUsedIp()).isEqualTo("127.0.0.2");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void changeFromAnotherProcess_reachesThePollerWithinASecond(Kind kind) {
        try (Env e = open(kind)) {
            // A second, independent pool on the same store stands in for the CLI or another node.
            Database other = Database.open(e.testDb.db(), e.testDb.dataDir());
            KeyService otherService = new KeyService(new JdbcKeyStore(other.dataSource()), KeyHasher.sha256(),
                    new KeyGenerator(), CLOCK);
            ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
            try (KeyChangePoller poller = new KeyChangePoller(e.store, seen::add).start(Duration.ofMillis(200))) {
                await().atMost(Duration.ofSeconds(5)).until(() -> pollerStarted(poller));
                CreatedKey c = otherService.create(spec("remote", Grant.SMTP_INJECT), Actor.CLI);
                long t0 = System.nanoTime();
                await().atMost(Duration.ofSeconds(3)).until(() -> seen.contains(c.key().keyHash()));
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
                seen.clear();
                otherService.revoke(c.key().id(), Actor.CLI);
                await().atMost(Duration.ofSeconds(3)).until(() -> seen.contains(c.key().keyHash()));
            } finally {
                other.close();
            }
        }
    }

    private static boolean pollerStarted(KeyChangePoller p) {
        try {
            var f = KeyChangePoller.class.getDeclaredField("since");
            f.setAccessible(true);
            return f.get(p) != null;
        } catch (ReflectiveOperationException ex) {
            throw new IllegalStateException(ex);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lookup_warmHitsDoNotReadTheStore_andInvalidateRereads(Kind kind) {
        try (Env e = open(kind)) {
            CreatedKey c = e.service.create(spec("a", Grant.SMTP_INJECT), Actor.CLI);
            FakeTicker ticker = new FakeTicker();
            KeyLookup lookup = new KeyLookup(e.store, new RelayConfig.Cache(1000, Duration.ofMinutes(10),
                    Duration.ofSeconds(30), Duration.ofMinutes(1)), ticker, Runnable::run);
            e.service.onChange(lookup::invalidate);
            String hash = c.key().keyHash();

            assertThat(lookup.find(hash)).isInstanceOf(KeyLookup.Result.Found.class);
            for (int i = 0; i < 100; i++) {
                assertThat(lookup.find(hash)).isInstanceOf(KeyLookup.Result.Found.class);
            }
            assertThat(lookup.storeReads()).isEqualTo(1);

            e.service.revoke(c.key().id(), Actor.CLI);
            assertThat(((KeyLookup.Result.Found) lookup.find(hash)).key().isRevoked()).isTrue();
            assertThat(lookup.storeReads()).isEqualTo(2);

            assertThat(lookup.find("0".repeat(64))).isEqualTo(KeyLookup.Result.Missing.INSTANCE);
            lookup.find("0".repeat(64));
            assertThat(lookup.storeReads()).as("negative results are cached").isEqualTo(3);
            ticker.advance(Duration.ofSeconds(31));
            lookup.find("0".repeat(64));
            assertThat(lookup.storeReads()).as("negative entries expire after negative_ttl").isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lookup_storeDown_cachedKeysWorkUntilTtl_othersAreUnavailable(Kind kind) {
        try (Env e = open(kind)) {
            CreatedKey c = e.service.create(spec("a", Grant.SMTP_INJECT), Actor.CLI);
            FakeTicker ticker = new FakeTicker();
            KeyLookup lookup = new KeyLookup(e.store, new RelayConfig.Cache(1000, Duration.ofMinutes(10),
                    Duration.ofSeconds(30), Duration.ofMinutes(1)), ticker, Runnable::run);
            assertThat(lookup.find(c.key().keyHash())).isInstanceOf(KeyLookup.Result.Found.class);

            e.db.close(); // the store is gone

            ticker.advance(Duration.ofMinutes(5)); // past refresh: the reload fails, the cached key keeps serving
            assertThat(lookup.find(c.key().keyHash())).isInstanceOf(KeyLookup.Result.Found.class);
            assertThat(lookup.find("1".repeat(64))).isInstanceOf(KeyLookup.Result.Unavailable.class);
            ticker.advance(Duration.ofMinutes(6)); // past ttl
            assertThat(lookup.find(c.key().keyHash())).isInstanceOf(KeyLookup.Result.Unavailable.class);
        }
    }

    static final class FakeTicker implements Ticker {
        private final AtomicLong nanos = new AtomicLong(1);

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }

        @Override
        public long read() {
            return nanos.get();
        }
    }
}
