package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.cli.RelayRuntime;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.Setting;
import io.keyrelay.domains.DkimImport;
import io.keyrelay.domains.DkimStatus;
import io.keyrelay.domains.DomainName;
import io.keyrelay.domains.DomainSpec;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.ChangeListener;
import io.keyrelay.testing.DkimKeys;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.TestDatabases;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two relay nodes on one PostgreSQL, each refusing mail from domains that are not verified sending domains: a
 * domain added, verified and deleted on A takes effect on B when A's change notice arrives — not at B's polling,
 * which looks only every 10 s while notices flow (the notices B received are counted) — and, while B's notification
 * connection is cut, by B's polling fallback. The times are printed; the bound asserted is half the safety poll.
 */
class DomainChangeNotificationsIT {
    /** Well under the 10 s safety poll B keeps while it listens: only a notice gets a change there this soon. */
    private static final Duration BOUND = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private TestDatabases.TestDb db;
    private final List<RelayRuntime> nodes = new ArrayList<>();
    private Dnsmasq dns;
    private final Dnsmasq.Zone zone = new Dnsmasq.Zone().local("test");
    private final Map<String, DkimImport> keys = new java.util.HashMap<>();

    @BeforeEach
    void start() throws Exception {
        // Imported keys, so their records are known, and served, before the domains exist.
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        for (int i = 0; i < 6; i++) {
            KeyPair pair = g.generateKeyPair();
            String domain = "d" + i + ".test";
            keys.put(domain, new DkimImport("s" + i, DkimKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded()),
                    null));
            zone.txt("s" + i + "._domainkey." + domain, "v=DKIM1; k=rsa; h=sha256; p="
                    + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
        }
        int dnsPort = FreePorts.pick();
        dns = Dnsmasq.start(dir, dnsPort, zone);
        db = TestDatabases.postgres(dir.resolve("db"));
        String master = MasterKey.generate().encoded();
        for (String name : List.of("a", "b")) {
            Map<Setting, String> s = new EnumMap<>(Setting.class);
            s.put(Setting.DATA_DIR, dir.resolve(name).toString());
            s.put(Setting.DB_URL, db.db().url());
            s.put(Setting.DB_USER, db.db().user());
            s.put(Setting.SMTP_LISTEN, "127.0.0.1");
            s.put(Setting.SMTP_PORT, "0");
            s.put(Setting.SMTP_AUTH_PLAINTEXT, "loopback");
            s.put(Setting.ADMIN_PORT, "0");
            s.put(Setting.CLUSTER_NODE_NAME, name);
            s.put(Setting.SENDING_DOMAINS_REQUIRE, "verified");
            s.put(Setting.DKIM_MASTER_KEY, master);
            s.put(Setting.DNS_SERVERS, "127.0.0.1:" + dnsPort);
            s.put(Setting.DNS_TIMEOUT, "2s");
            nodes.add(new RelayRuntime(ConfigLoader.build(new ConfigLoader.Raw(s, List.of())),
                    dir.resolve(name + "-out")));
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
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void addedVerifiedDeletedOnA_takesEffectOnB_byNotice_andByPollingWhileBsNoticesAreCut() throws Exception {
        RelayRuntime a = nodes.get(0);
        RelayRuntime b = nodes.get(1);
        String secret = b.keyService().create(new KeySpec("b", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                null), Actor.CLI).secret();
        List<Long> added = new ArrayList<>();
        List<Long> verified = new ArrayList<>();
        List<Long> deleted = new ArrayList<>();
        long noticesBefore = b.domainDirectory().notices();
        try (RawSmtpClient smtp = session(b, secret)) {
            for (int i = 0; i < 4; i++) {
                String domain = "d" + i + ".test";
                assertThat(mailFrom(smtp, domain)).as("not a sending domain yet").isEqualTo(550);

                long t0 = System.nanoTime();
                a.domains().create(spec(domain), Actor.CLI);
                added.add(until(t0, () -> b.domainDirectory().find(domain) != null));
                assertThat(mailFrom(smtp, domain)).as("configured, not verified").isEqualTo(550);

                t0 = System.nanoTime();
                SendingDomain v = a.domains().verify(DomainName.parse(domain), Actor.CLI).domain();
                assertThat(v.dkimStatus()).isEqualTo(DkimStatus.VALID);
                verified.add(until(t0, () -> mailFrom(smtp, domain) == 250));
                assertThat(b.domainDirectory().find(domain).ownershipVerified()).isTrue();

                t0 = System.nanoTime();
                a.domains().delete(DomainName.parse(domain), Actor.CLI);
                deleted.add(until(t0, () -> mailFrom(smtp, domain) == 550));
                assertThat(b.domainDirectory().find(domain)).isNull();
            }
        }
        assertThat(b.domainDirectory().notices() - noticesBefore).as("B heard of A's changes by notice")
                .isGreaterThanOrEqualTo(12);

        // B's listening connection is cut, again and again: A's change reaches B by B's fast polling (or by the
        // catch-up read of a reconnect that lived a moment).
        AtomicBoolean cutting = new AtomicBoolean(true);
        Thread cutter = Thread.ofPlatform().name("cutter").start(() -> {
            while (cutting.get()) {
                terminateListener("b");
                Thread.onSpinWait();
            }
        });
        List<Long> duringCut = new ArrayList<>();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> !b.changeListener().connected());
            for (int i = 4; i < 6; i++) {
                String domain = "d" + i + ".test";
                long t0 = System.nanoTime();
                a.domains().create(spec(domain), Actor.CLI);
                duringCut.add(until(t0, () -> b.domainDirectory().find(domain) != null));
            }
        } finally {
            cutting.set(false);
            cutter.join();
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> b.changeListener().connected());
        System.out.printf("domain change on A in effect on B (ms): added %s; verified %s; deleted %s; B cut %s%n",
                summary(added), summary(verified), summary(deleted), summary(duringCut));
        for (List<Long> times : List.of(added, verified, deleted)) {
            assertThat(times).allSatisfy(t -> assertThat(t).isLessThan(BOUND.toNanos()));
        }
    }

    private DomainSpec spec(String domain) {
        return new DomainSpec(domain, null, false, true, 2048, false, keys.get(domain));
    }

    /** Nanoseconds from {@code t0} until {@code done}; fails after 20 s (the fallback's worst case, doubled). */
    private static long until(long t0, BooleanSupplier done) {
        await().atMost(Duration.ofSeconds(20)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                .until(done::getAsBoolean);
        return System.nanoTime() - t0;
    }

    private static RawSmtpClient session(RelayRuntime n, String secret) {
        RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", n.smtpPort(), null);
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", secret)).assertCode(235);
        return c;
    }

    /** MAIL FROM a sender of {@code domain} on an open session: the reply's code (a transaction begun is reset). */
    private static int mailFrom(RawSmtpClient c, String domain) {
        int code = c.command("MAIL FROM:<app@" + domain + ">").code();
        if (code == 250) {
            c.command("RSET").assertCode(250);
        }
        return code;
    }

    private void terminateListener(String node) {
        TestDatabases.terminateBackends(db, ChangeListener.applicationName(node));
    }

    private static String summary(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return String.format("n=%d p50=%.1f max=%.1f", sorted.size(), sorted.get(sorted.size() / 2) / 1e6,
                sorted.get(sorted.size() - 1) / 1e6);
    }
}
