package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.cli.RelayRuntime;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.ChangeListener;
import io.keyrelay.testing.TestDatabases;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three relay nodes on one PostgreSQL: a key revoked on node A is refused on B and C as soon as the NOTIFY arrives,
 * and still within the polling fallback while B's notification connection is cut (its backend terminated again and
 * again, as a failover or a network cut would); after that B reconnects and reads what it missed. The times are
 * printed; the bound asserted is the issue's: under one second at p99.
 */
class ChangeNotificationsIT {
    private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();
    private static final Duration BOUND = Duration.ofSeconds(1);

    @TempDir
    Path dir;
    private TestDatabases.TestDb db;
    private final List<RelayRuntime> nodes = new ArrayList<>();

    @BeforeEach
    void start() {
        db = TestDatabases.postgres(dir.resolve("db"));
        for (String name : List.of("a", "b", "c")) {
            Map<Setting, String> s = new EnumMap<>(Setting.class);
            s.put(Setting.DATA_DIR, dir.resolve(name).toString());
            s.put(Setting.DB_URL, db.db().url());
            s.put(Setting.DB_USER, db.db().user());
            s.put(Setting.SMTP_LISTEN, "127.0.0.1");
            s.put(Setting.SMTP_PORT, "0");
            s.put(Setting.SMTP_AUTH_PLAINTEXT, "loopback");
            s.put(Setting.ADMIN_PORT, "0");
            s.put(Setting.CLUSTER_NODE_NAME, name);
            s.put(Setting.SENDING_DOMAINS_REQUIRE, "off"); // the test sends from arbitrary domains
            nodes.add(new RelayRuntime(ConfigLoader.build(new ConfigLoader.Raw(s, List.of())), dir.resolve(name + "-out")));
        }
        for (RelayRuntime n : nodes) {
            await().atMost(Duration.ofSeconds(10)).until(() -> n.changeListener().connected());
        }
    }

    @AfterEach
    void stop() {
        nodes.forEach(RelayRuntime::close);
        if (db != null) {
            db.close();
        }
    }

    @Test
    void revocationOnA_isRefusedOnBAndC_withinASecond_alsoWhileBsNotificationConnectionIsCut() throws Exception {
        RelayRuntime a = nodes.get(0);
        RelayRuntime b = nodes.get(1);
        RelayRuntime c = nodes.get(2);

        List<Long> notified = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            notified.addAll(revokeAndTime(a, List.of(b, c)));
        }

        // B's listening connection is cut, and cut again as soon as it comes back, for a while: revocations made
        // meanwhile reach B by its polling fallback (or the catch-up read of a reconnect that lived a moment).
        long reconnectsBefore = b.changeListener().reconnects();
        List<Long> duringCut = new ArrayList<>();
        AtomicBoolean cutting = new AtomicBoolean(true);
        Thread cutter = Thread.ofPlatform().name("cutter").start(() -> {
            while (cutting.get()) {
                terminateListener("b");
                Thread.onSpinWait();
            }
        });
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> !b.changeListener().connected());
            for (int i = 0; i < 8; i++) {
                duringCut.addAll(revokeAndTime(a, List.of(b)));
            }
        } finally {
            cutting.set(false);
            cutter.join();
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> b.changeListener().connected());
        assertThat(b.changeListener().reconnects()).isGreaterThan(reconnectsBefore);

        List<Long> afterCut = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            afterCut.addAll(revokeAndTime(a, List.of(b, c)));
        }
        System.out.printf("revocation on A refused on B and C (ms): notified %s; B cut %s; B back %s%n",
                summary(notified), summary(duringCut), summary(afterCut));
        assertThat(p99(notified)).as("p99 with notifications").isLessThan(BOUND.toNanos());
        assertThat(p99(duringCut)).as("p99 while B's notifications were cut").isLessThan(BOUND.toNanos());
        assertThat(p99(afterCut)).as("p99 once B was back").isLessThan(BOUND.toNanos());
        assertThat(b.registry().find("keyrelay.change.notifications").tag("node", "b").functionCounter().count())
                .isPositive();
    }

    /** Creates a key on {@code on}, warms it into {@code others}' caches, revokes it, and times until each refuses it. */
    private static List<Long> revokeAndTime(RelayRuntime on, List<RelayRuntime> others) {
        CreatedKey key = on.keyService().create(new KeySpec("k", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                null), Actor.CLI);
        for (RelayRuntime n : others) {
            assertThat(n.authenticator().authenticate(key.secret(), CLIENT, Grant.SMTP_INJECT))
                    .isInstanceOf(AuthDecision.Accepted.class);
        }
        long t0 = System.nanoTime();
        on.keyService().revoke(key.key().id(), Actor.CLI);
        List<Long> times = new ArrayList<>();
        for (RelayRuntime n : others) {
            await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                    .until(() -> n.authenticator().authenticate(key.secret(), CLIENT, Grant.SMTP_INJECT)
                            instanceof AuthDecision.Denied d && d.reason() == AuthDecision.Reason.REVOKED);
            times.add(System.nanoTime() - t0);
        }
        return times;
    }

    private void terminateListener(String node) {
        TestDatabases.terminateBackends(db, ChangeListener.applicationName(node));
    }

    private static long p99(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
    }

    private static String summary(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return String.format("n=%d p50=%.1f p99=%.1f max=%.1f", sorted.size(), sorted.get(sorted.size() / 2) / 1e6,
                p99(sorted) / 1e6, sorted.get(sorted.size() - 1) / 1e6);
    }
}
