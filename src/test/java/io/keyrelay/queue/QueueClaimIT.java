package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Actor;
import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The claim on both real stores: the oldest due message first (by id, the time of acceptance), held and failed ones
 * never, a run-out lease taken over, each message to exactly one of many concurrent claimers — and a claim that reads the head of the due index
 * (V13) rather than every due row, checked by the store's own plan.
 */
class QueueClaimIT {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(5);

    @TempDir
    java.nio.file.Path dir;

    private record Env(TestDatabases.TestDb testDb, Database db, JdbcQueueStore store, QueueFixture fixture,
            QueueService service) implements AutoCloseable {
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
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        JdbcQueueStore store = new JdbcQueueStore(db.dataSource());
        return new Env(t, db, store, new QueueFixture(db.dataSource(), clock), new QueueService(store, clock, () -> {}));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void claimsTheOldestDueFirst_neverAHeldOrFailedOne_andTakesOverARunOutLease(Kind kind) {
        try (Env e = open(kind)) {
            // Failed and held messages accepted long before the due ones: the claim must pass them by.
            String failed = e.fixture.queue("a@example.com", List.of("x@dest.test"), null, null, null,
                    T0.minusSeconds(3600));
            e.fixture.attempt(failed, T0.minusSeconds(3500), "550 5.1.1 no such user", Outcome.Kind.FAILED);
            String held = e.fixture.queue("a@example.com", List.of("y@dest.test"), null, null, null,
                    T0.minusSeconds(3000));
            assertThat(e.service.hold(held, Actor.CLI)).isEqualTo(QueueService.Change.CHANGED);
            // Accepted first (the older id) but due later than the next one, as after an outage where the younger
            // message is on a shorter wait: the oldest is claimed first all the same.
            String first = e.fixture.queue("a@example.com", List.of("b@dest.test"), null, null, null,
                    T0.minusSeconds(20));
            String second = e.fixture.queue("a@example.com", List.of("c@dest.test"), null, null, null,
                    T0.minusSeconds(30));
            String future = e.fixture.queue("a@example.com", List.of("d@dest.test"), null, null, null,
                    T0.plus(Duration.ofMinutes(10)));

            Claim c1 = e.store.claim("w1", T0, LEASE).orElseThrow();
            Claim c2 = e.store.claim("w2", T0, LEASE).orElseThrow();
            assertThat(List.of(c1.id(), c2.id())).containsExactly(first, second);
            assertThat(c1.attempt()).isEqualTo(1);
            assertThat(c1.afterLostLease()).isFalse();
            assertThat(e.store.claim("w3", T0, LEASE)).isEmpty(); // held, failed, not yet due, both claimed

            // After the lease: w1's claim is taken over by w3, flagged as a possible duplicate.
            Instant later = T0.plus(LEASE).plusSeconds(1);
            Claim again = e.store.claim("w3", later, LEASE).orElseThrow();
            assertThat(again.id()).isIn(first, second);
            assertThat(again.afterLostLease()).isTrue();
            assertThat(again.attempt()).isEqualTo(2);
            assertThat(List.of(held, failed, future)).doesNotContain(again.id());

            // Released, the held message is due at once.
            assertThat(e.service.release(held, Actor.CLI)).isEqualTo(QueueService.Change.CHANGED);
            Optional<Claim> released = e.store.claim("w4", T0.plusSeconds(1), LEASE);
            assertThat(released.map(Claim::id)).contains(held);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void manyConcurrentClaimers_eachMessageToExactlyOne(Kind kind) throws Exception {
        int messages = 300;
        int claimers = 8;
        try (Env e = open(kind)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < messages; i++) {
                ids.add(e.fixture.queue("a@example.com", List.of("r" + i + "@dest.test"), null, null, null,
                        T0.minusSeconds(messages - i)));
            }
            ConcurrentHashMap<String, String> claimedBy = new ConcurrentHashMap<>();
            List<String> twice = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(claimers);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int w = 0; w < claimers; w++) {
                    String owner = "w" + w;
                    done.add(pool.submit(() -> {
                        int n = 0;
                        for (int i = 0; i < messages; i++) { // bounded: at most every message
                            Optional<Claim> c = e.store.claim(owner, T0, LEASE);
                            if (c.isEmpty()) {
                                break;
                            }
                            if (claimedBy.putIfAbsent(c.get().id(), owner) != null) {
                                twice.add(c.get().id());
                            }
                            n++;
                        }
                        return n;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : done) {
                    total += f.get(120, TimeUnit.SECONDS);
                }
                assertThat(twice).isEmpty();
                assertThat(total).isEqualTo(messages);
                assertThat(claimedBy.keySet()).containsExactlyInAnyOrderElementsOf(ids);
                assertThat(e.store.claim("late", T0, LEASE)).isEmpty();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theDueLookup_readsTheHeadOfTheIndex_notTheBacklog(Kind kind) throws Exception {
        try (Env e = open(kind)) {
            for (int i = 0; i < 2000; i++) {
                e.fixture.queue("a@example.com", List.of("r@dest.test"), null, null, null, T0.minusSeconds(5000 - i));
            }
            try (Connection c = e.db.dataSource().getConnection()) {
                if (kind == Kind.POSTGRES) {
                    try (PreparedStatement ps = c.prepareStatement("ANALYZE queue_messages")) {
                        ps.execute();
                    }
                }
                String explain = kind == Kind.H2 ? "EXPLAIN ANALYZE " : "EXPLAIN (ANALYZE, FORMAT TEXT) ";
                StringBuilder plan = new StringBuilder();
                try (PreparedStatement ps = c.prepareStatement(explain + "SELECT id FROM queue_messages"
                        + " WHERE next_attempt <= ? ORDER BY next_attempt, id FETCH FIRST 16 ROWS ONLY")) {
                    JdbcQueueStore.setTime(ps, 1, T0);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString(1)).append('\n');
                        }
                    }
                }
                if (kind == Kind.H2) {
                    assertThat(plan).contains("QUEUE_MESSAGES_NEXT").contains("index sorted");
                    assertThat(plan.toString()).containsPattern("scanCount: (1[0-7]|[1-9])\\b");
                } else {
                    assertThat(plan).contains("queue_messages_next").doesNotContain("Sort");
                }
            }
        }
    }
}
