package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.Haproxy;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RedisServer;
import io.keyrelay.testing.RelayProcess;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster of real processes: three {@code keyrelay serve} on one PostgreSQL and one Redis (a throwaway
 * {@code redis-server}), behind a real HAProxy sending PROXY v2 headers and spreading connections round-robin,
 * a {@link ScriptedMta} as the downstream (which a test can make slow); clients on distinct loopback addresses. Each
 * node names itself in its greeting ({@code smtp.hostname} n1.test …), so a test knows which one it reached, and a
 * test that needs a given node opens connections until HAProxy hands it that one ({@link #sessionOn}): what a test
 * proves does not depend on HAProxy's order, which a health check that was slow on a loaded machine changes. The
 * relay runs in its default queue mode, with a short {@code queue.lease}. The tests run in order: the last one kills
 * a node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final Pattern NODE = Pattern.compile("^(n\\d)\\.test ");
    private static final List<String> NAMES = List.of("n1", "n2", "n3");

    @TempDir
    static Path dir;
    private TestDatabases.TestDb db;
    private RedisServer redis;
    private ScriptedMta mta;
    /** How long the downstream waits before it answers a message's data (and records it), in milliseconds. */
    private final AtomicLong downstreamDelay = new AtomicLong();
    private final Map<String, RelayProcess> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> adminPorts = new HashMap<>();
    private Haproxy haproxy;
    private Database store;
    private KeyService keys;
    private CreatedKey metricsKey;

    @BeforeAll
    void start() {
        db = TestDatabases.postgres(dir.resolve("db"));
        redis = RedisServer.start(dir.resolve("redis"));
        mta = new ScriptedMta().dataReply(d -> {
            try {
                Thread.sleep(downstreamDelay.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "250 2.0.0 Ok: queued as SCRIPTED";
        });
        List<Haproxy.Node> behind = new ArrayList<>();
        for (String name : NAMES) {
            int smtp = FreePorts.pick();
            int admin = FreePorts.pick();
            adminPorts.put(name, admin);
            Map<String, String> env = new HashMap<>(db.env());
            env.put("KEYRELAY_DATA_DIR", dir.resolve(name).toString());
            env.put("KEYRELAY_CLUSTER_NODE_NAME", name);
            env.put("KEYRELAY_CLUSTER_REDIS_URL", redis.url());
            // Generous on a loaded test machine: a slow answer must not count Redis as gone and the limit per node.
            env.put("KEYRELAY_CLUSTER_REDIS_TIMEOUT", "2s");
            env.put("KEYRELAY_SMTP_LISTEN", "127.0.0.1");
            env.put("KEYRELAY_SMTP_PORT", Integer.toString(smtp));
            env.put("KEYRELAY_SMTP_HOSTNAME", name + ".test");
            env.put("KEYRELAY_SMTP_AUTH_PLAINTEXT", "loopback");
            env.put("KEYRELAY_SMTP_PROXY_PROTOCOL", "v2");
            env.put("KEYRELAY_SMTP_PROXY_TRUSTED", "127.0.0.1");
            env.put("KEYRELAY_LIMITS_AUTH_DELAY", "0");
            env.put("KEYRELAY_ADMIN_PORT", Integer.toString(admin));
            env.put("KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1");
            env.put("KEYRELAY_DOWNSTREAM_PORT", Integer.toString(mta.port()));
            env.put("KEYRELAY_DOWNSTREAM_TLS", "none");
            // Queue mode (the default): a message a killed node had claimed is delivered by another once its lease
            // runs out; short here, so the test need not wait the default 10 minutes.
            env.put("KEYRELAY_QUEUE_LEASE", "5s");
            env.put("KEYRELAY_DOWNSTREAM_READ_TIMEOUT", "4s");
            env.put("KEYRELAY_SENDING_DOMAINS_REQUIRE", "off"); // the test sends from arbitrary domains
            nodes.put(name, RelayProcess.start(dir, List.of("-Xmx256m"), env, "serve"));
            behind.add(new Haproxy.Node(name, smtp, admin));
        }
        nodes.forEach((name, p) -> p.awaitLine(l -> l.contains("SMTP listening on"), Duration.ofSeconds(90)));
        store = Database.open(db.db(), dir.resolve("db"));
        keys = new KeyService(new JdbcKeyStore(store.dataSource()), KeyHasher.hmacSha256(null), new KeyGenerator(),
                Clock.systemUTC());
        metricsKey = keys.create(spec("prometheus", null, Grant.METRICS_VIEW), Actor.CLI);
        haproxy = Haproxy.balanced(dir.resolve("haproxy"), "smtp", behind);
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> nodes.keySet().forEach(n -> {
            HttpResponse<String> r = admin(n, "/readyz", null);
            assertThat(r.statusCode()).as("%s: %s; stderr %s", n, r.body(), nodes.get(n).stderr()).isEqualTo(200);
        }));
    }

    @AfterAll
    void stop() {
        if (haproxy != null) {
            haproxy.close();
        }
        nodes.values().forEach(RelayProcess::close);
        if (store != null) {
            store.close();
        }
        if (mta != null) {
            mta.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (db != null) {
            db.close();
        }
    }

    /**
     * Eighteen MAILs of a key limited to 6 a minute, six on each node in turn: 6 accepted across the cluster, where
     * counting per node would accept all 18. The minute rate is a GCRA (a burst of 6, then one more every 10 s), so
     * on a machine so loaded that the attempts spread over more than 10 s, one more per 10 s that passed is right;
     * the test measures that time and allows exactly that, and asserts no node counted on its own meanwhile.
     */
    @Test
    @Order(1)
    void aKeyLimitedToNPerMinute_sendsNAcrossTheCluster_notThreeTimesN() {
        CreatedKey key = keys.create(spec("limited", new KeyLimits(6L, null, null, null), Grant.SMTP_INJECT),
                Actor.CLI);
        Map<String, Double> fallbacks = perNode("keyrelay_redis_fallbacks_total", "");
        Map<String, Integer> acceptedBy = new TreeMap<>();
        Map<String, Integer> refusedBy = new TreeMap<>();
        long first = 0;
        long last = 0;
        for (int i = 0; i < 18; i++) {
            String node = NAMES.get(i % 3);
            try (Session s = sessionOn("127.0.0.2", node)) {
                s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
                long sent = System.nanoTime();
                first = i == 0 ? sent : first;
                RawSmtpClient.Reply mail = s.client.command("MAIL FROM:<app@example.com>");
                last = System.nanoTime();
                if (mail.code() == 250) {
                    assertThat(finish(s.client, "limited-" + i).code()).isEqualTo(250);
                    acceptedBy.merge(node, 1, Integer::sum);
                } else {
                    assertThat(mail.code()).as(mail.toString()).isEqualTo(451);
                    assertThat(mail.text()).contains("6 messages per minute");
                    refusedBy.merge(node, 1, Integer::sum);
                }
            }
        }
        int accepted = acceptedBy.values().stream().mapToInt(Integer::intValue).sum();
        long regenerated = Duration.ofNanos(last - first).toSeconds() / 10;
        System.out.printf("ClusterIT: 6/min key, 18 MAILs over %d ms: accepted %s, refused %s%n",
                (last - first) / 1_000_000, acceptedBy, refusedBy);
        assertThat(perNode("keyrelay_redis_fallbacks_total", "")).as("no node counted on its own")
                .isEqualTo(fallbacks);
        assertThat(accepted).as("accepted by %s in %d ms", acceptedBy, (last - first) / 1_000_000)
                .isBetween(6, 6 + (int) regenerated);
        assertThat(acceptedBy.keySet()).as("accepted on every node").hasSize(3);
        assertThat(refusedBy.keySet()).as("refused on every node").hasSize(3);
    }

    @Test
    @Order(2)
    void fiveFailedAuthsSpreadOverTheNodes_banTheAddressOnAll() {
        // Every node hears the bans announced through Redis, so a session of an address with no ban costs Redis
        // nothing: a connection, an AUTH and a message of a key without limits, on each node, counted by Redis.
        await().atMost(Duration.ofSeconds(10)).until(() -> nodes.keySet().stream()
                .allMatch(n -> metric(n, "keyrelay_redis_ban_notices_current", "") == 1));
        CreatedKey clean = keys.create(spec("clean", null, Grant.SMTP_INJECT), Actor.CLI);
        long commands = redisCommands();
        for (String n : NAMES) {
            try (Session s = sessionOn("127.0.0.5", n)) {
                s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", clean.secret())).assertCode(235);
                s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
                finish(s.client, "clean-" + n).assertCode(250);
            }
        }
        assertThat(redisCommands() - commands).as("Redis commands for three sessions without a ban").isZero();
        for (int i = 0; i < 5; i++) {
            try (Session s = sessionOn("127.0.0.3", NAMES.get(i % 3))) {
                RawSmtpClient.Reply r = s.client.command("AUTH PLAIN "
                        + RawSmtpClient.plain("SMTP_Injection", "0".repeat(39) + i));
                assertThat(r.code()).as("wrong key %d on %s: %s", i, s.node, r).isIn(535, 421);
            }
        }
        // Banned on every node: each connection is refused at the greeting, until every node has refused one.
        for (int i = 0; i < 30 && !nodes.keySet().stream().allMatch(n -> refusedBans(n) > 0); i++) {
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", haproxy.port("smtp"), "127.0.0.3")) {
                RawSmtpClient.Reply greeting = c.read();
                assertThat(greeting.code()).as(greeting.toString()).isEqualTo(421);
            }
        }
        for (String n : nodes.keySet()) {
            assertThat(refusedBans(n)).as(n).isPositive();
        }
        // Another address is not affected.
        try (Session s = session("127.0.0.4")) {
            assertThat(s.node).isNotNull();
        }
    }

    /** Commands a session could cost Redis (a ban's GET, a count's script), from Redis's own statistics. */
    private long redisCommands() {
        String stats = redis.cli("INFO", "commandstats");
        long n = 0;
        for (String command : List.of("get", "evalsha", "eval")) {
            Matcher m = Pattern.compile("cmdstat_" + command + ":calls=(\\d+)").matcher(stats);
            n += m.find() ? Long.parseLong(m.group(1)) : 0;
        }
        return n;
    }

    private double refusedBans(String node) {
        return metricOr0(node, "keyrelay_smtp_refused_total", "reason=\"auth_ban\"");
    }

    @Test
    @Order(3)
    void aRevocationIsRefusedOnEveryNode_withinASecond() {
        List<Long> times = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            CreatedKey key = keys.create(spec("revoked-" + round, null, Grant.SMTP_INJECT), Actor.CLI);
            // A revoked key counts toward a ban like any wrong one: each round from its own address.
            String from = "127.0.0." + (10 + round);
            Set<String> warm = new HashSet<>();
            while (warm.size() < 3) {
                try (Session s = session(from)) {
                    s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret()))
                            .assertCode(235);
                    warm.add(s.node);
                }
            }
            long t0 = System.nanoTime();
            keys.revoke(key.key().id(), Actor.CLI);
            Map<String, Long> refusedAt = new HashMap<>();
            long deadline = t0 + Duration.ofSeconds(5).toNanos();
            while (refusedAt.size() < 3 && System.nanoTime() < deadline) {
                try (Session s = session(from)) {
                    int code = s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret()))
                            .code();
                    if (code == 535) {
                        refusedAt.putIfAbsent(s.node, System.nanoTime() - t0);
                    }
                }
            }
            assertThat(refusedAt).as("round %d", round).hasSize(3);
            times.addAll(refusedAt.values());
        }
        List<Long> sorted = times.stream().sorted().toList();
        System.out.printf("ClusterIT: revocation refused through HAProxy on each of 3 nodes (ms): n=%d p50=%.1f"
                + " max=%.1f%n", sorted.size(), sorted.get(sorted.size() / 2) / 1e6, sorted.getLast() / 1e6);
        assertThat(Duration.ofNanos(sorted.getLast())).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    @Order(4)
    void redisStoppedMidRun_mailKeepsFlowing_theFallbackIsCounted_andRedisIsUsedAgainWhenBack() throws Exception {
        CreatedKey key = keys.create(spec("busy", new KeyLimits(10_000L, 1_000_000L, null, null), Grant.SMTP_INJECT),
                Actor.CLI);
        int before = mta.received().size();
        int sent = 0;
        for (int i = 0; i < 3; i++) {
            sent += sendOne(key, "before-redis-stop-" + i) ? 1 : 0;
        }
        redis.stop();
        for (int i = 0; i < 9; i++) {
            assertThat(sendOne(key, "while-redis-gone-" + i)).as("message %d while Redis is gone", i).isTrue();
            sent++;
        }
        for (String n : nodes.keySet()) {
            assertThat(metric(n, "keyrelay_redis_up", "")).as(n).isZero();
            assertThat(metric(n, "keyrelay_redis_fallbacks_total", "")).as(n).isPositive();
            HttpResponse<String> ready = admin(n, "/readyz", null);
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(ready.body()).contains("Redis unreachable");
        }
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> nodes.keySet().stream()
                .allMatch(n -> metric(n, "keyrelay_redis_up", "") == 1));
        for (int i = 0; i < 3; i++) {
            sent += sendOne(key, "after-redis-back-" + i) ? 1 : 0;
        }
        assertThat(sent).isEqualTo(15);
        int expected = before + sent;
        await().atMost(Duration.ofSeconds(10)).until(() -> mta.received().size() >= expected);
        assertThat(redis.cli("--scan", "--pattern", "keyrelay:{" + key.key().id() + "}:*"))
                .as("counting in Redis again").contains("minute");
    }

    /**
     * {@code kill -9} of a node in the middle of delivering: the downstream answers each message after 1.5 s, the
     * node is given messages until it holds several claims, and it is killed. Every message answered 250 reaches the
     * downstream; the killed node's claims are taken over by the others once {@code queue.lease} (5 s) has passed,
     * and {@code keyrelay_queue_lease_expired_total} on the survivors counts exactly those; a message arrives twice
     * only if it was one of them (the downstream had it, the node died before recording so), never otherwise.
     * Meanwhile clients reconnect through HAProxy to the others.
     */
    @Test
    @Order(5)
    void oneNodeKilledMidDelivery_othersDeliverItsMessagesAfterTheLease_nothingAcknowledgedIsLostOrSentTwiceOutsideIt()
            throws Exception {
        CreatedKey key = keys.create(spec("steady", null, Grant.SMTP_INJECT), Actor.CLI);
        downstreamDelay.set(1500);
        Map<String, String> acknowledged = new LinkedHashMap<>(); // subject -> queue id
        Map<String, Double> takeoversBefore = perNode("keyrelay_queue_lease_expired_total", "");
        // n2 takes messages until it is delivering several at once (its workers hold them while the downstream waits).
        int sent = 0;
        while (activeClaims("n2").size() < 3 && sent < 20) {
            try (Session s = sessionOn("127.0.0.6", "n2")) {
                String subject = "steady-" + sent++ + "-" + UUID.randomUUID();
                s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
                s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
                acknowledged.put(subject, queueId(finish(s.client, subject).assertCode(250)));
            }
        }
        assertThat(activeClaims("n2")).as("n2 delivering several after %d messages", sent)
                .hasSizeGreaterThanOrEqualTo(3);
        nodes.get("n2").kill9();
        Thread.sleep(200); // PostgreSQL notices the dead connections: a claim it was making is rolled back
        Set<String> stranded = activeClaims("n2");
        assertThat(stranded).as("n2 died while delivering").isNotEmpty();
        // Clients go on through HAProxy; the killed node's connection attempts are dispatched to the others.
        Set<String> nodesAfterKill = new HashSet<>();
        int attempts = 0;
        for (int i = 0; i < 10 && attempts < 60; i++) {
            String subject = "after-kill-" + i + "-" + UUID.randomUUID();
            boolean done = false;
            while (!done && attempts++ < 60) {
                try (Session s = session("127.0.0.6")) {
                    s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret()))
                            .assertCode(235);
                    s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
                    RawSmtpClient.Reply r = finish(s.client, subject);
                    if (r.code() == 250) {
                        acknowledged.put(subject, queueId(r));
                        nodesAfterKill.add(s.node);
                        done = true;
                    }
                } catch (UncheckedIOException | AssertionError e) {
                    // HAProxy had not yet seen the node go: reconnect.
                }
            }
        }
        assertThat(acknowledged).hasSize(sent + 10);
        assertThat(nodesAfterKill).as("served by the others").doesNotContain("n2").isNotEmpty();
        // Every 250 was a commit to the shared store: all of them arrive, those n2 held after its lease ran out.
        await().atMost(Duration.ofSeconds(60)).until(() -> arrivals().keySet().containsAll(acknowledged.keySet()));
        downstreamDelay.set(0);
        await().atMost(Duration.ofSeconds(20)).until(() -> activeClaims("n").isEmpty());
        Map<String, Integer> arrivals = arrivals();
        Map<String, String> idOf = new HashMap<>(acknowledged);
        Map<String, Integer> twice = new TreeMap<>();
        acknowledged.keySet().forEach(subject -> {
            if (arrivals.get(subject) > 1) {
                twice.put(subject, arrivals.get(subject));
            }
        });
        double takeovers = sum(perNode("keyrelay_queue_lease_expired_total", ""), "n2")
                - sum(takeoversBefore, "n2");
        System.out.printf("ClusterIT: kill -9 mid-delivery: %d acknowledged, %d claims stranded on n2, %d taken over"
                + " after the lease, %d arrived twice%n", acknowledged.size(), stranded.size(), (long) takeovers,
                twice.size());
        assertThat(twice.values()).as("at most twice").allMatch(n -> n == 2);
        assertThat(twice.keySet()).as("only messages n2 was delivering when it died arrive twice")
                .allMatch(subject -> stranded.contains(idOf.get(subject)));
        assertThat(twice.size()).isLessThanOrEqualTo(stranded.size());
        assertThat(takeovers).as("lease takeovers on the survivors").isEqualTo(stranded.size());
        for (String id : stranded) {
            assertThat(attemptsOf(id)).as("%s: delivered, so gone from the queue", id).isEqualTo(-1);
        }
    }

    /** The queue ids of the messages leased now to owners whose name starts with {@code ownerPrefix}. */
    private Set<String> activeClaims(String ownerPrefix) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT id FROM queue_messages WHERE state = 'active'"
                        + " AND lease_owner LIKE ?")) {
            ps.setString(1, ownerPrefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** The attempts made on queue message {@code id}; -1 when it is no longer queued (delivered). */
    private int attemptsOf(String id) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT attempts FROM queue_messages WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        }
    }

    private static final Pattern QUEUED_AS = Pattern.compile("queued as (\\S+)");

    private static String queueId(RawSmtpClient.Reply r) {
        Matcher m = QUEUED_AS.matcher(r.text());
        assertThat(m.find()).as(r.toString()).isTrue();
        return m.group(1);
    }

    /** How often each subject has reached the downstream. */
    private Map<String, Integer> arrivals() {
        Map<String, Integer> out = new HashMap<>();
        for (ScriptedMta.Received r : mta.received()) {
            Matcher m = SUBJECT.matcher(new String(r.data(), StandardCharsets.US_ASCII));
            if (m.find()) {
                out.merge(m.group(1), 1, Integer::sum);
            }
        }
        return out;
    }

    private static final Pattern SUBJECT = Pattern.compile("(?m)^Subject: (\\S+)\r?$");

    // ---- helpers ----

    /** A connection through HAProxy from {@code from}, greeted, EHLO said; {@code node} is the one reached. */
    private record Session(RawSmtpClient client, String node) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
        }
    }

    private Session session(String from) {
        RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", haproxy.port("smtp"), from);
        try {
            RawSmtpClient.Reply greeting = c.expect(220);
            Matcher m = NODE.matcher(greeting.text());
            assertThat(m.find()).as(greeting.toString()).isTrue();
            c.ehlo();
            return new Session(c, m.group(1));
        } catch (RuntimeException | AssertionError e) {
            c.close();
            throw e;
        }
    }

    /**
     * A session on {@code node}: connections through HAProxy from {@code from} until one reaches it (the others are
     * closed after the greeting, before anything counts); round-robin hands it out every third connection, a node
     * briefly out of HAProxy's rotation a little later.
     */
    private Session sessionOn(String from, String node) {
        for (int i = 0; i < 30; i++) {
            Session s = session(from);
            if (s.node.equals(node)) {
                return s;
            }
            s.client.command("QUIT");
            s.close();
        }
        throw new AssertionError("HAProxy gave no connection to " + node + " in 30");
    }

    /** RCPT, DATA and the message; the relay's reply to the data. */
    private static RawSmtpClient.Reply finish(RawSmtpClient c, String subject) {
        c.command("RCPT TO:<someone@dest.test>").assertCode(250);
        c.command("DATA").assertCode(354);
        c.write(RawSmtpClient.stuff(("From: app@example.com\r\nTo: someone@dest.test\r\nSubject: " + subject
                + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII)));
        return c.read();
    }

    private boolean sendOne(CreatedKey key, String subject) {
        try (Session s = session("127.0.0.7")) {
            s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
            return finish(s.client, subject).code() == 250;
        }
    }

    /** {@code name}'s value on each node still running. */
    private Map<String, Double> perNode(String name, String label) {
        Map<String, Double> out = new TreeMap<>();
        nodes.forEach((n, p) -> {
            if (p.process().isAlive()) {
                out.put(n, metricOr0(n, name, label));
            }
        });
        return out;
    }

    private static double sum(Map<String, Double> perNode, String except) {
        return perNode.entrySet().stream().filter(e -> !e.getKey().equals(except)).mapToDouble(Map.Entry::getValue)
                .sum();
    }

    /** Like {@link #metric}, 0 when the node has not registered the series yet (a counter never incremented). */
    private double metricOr0(String node, String name, String label) {
        try {
            return metric(node, name, label);
        } catch (AssertionError e) {
            if (e.getMessage() != null && e.getMessage().startsWith("no ")) {
                return 0;
            }
            throw e;
        }
    }

    private static KeySpec spec(String label, KeyLimits limits, Grant grant) {
        return new KeySpec(label, EnumSet.of(grant), IpAllowlist.ANY, null, null, limits);
    }

    private HttpResponse<String> admin(String node, String path, String key) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPorts.get(node) + path))
                    .timeout(Duration.ofSeconds(5));
            if (key != null) {
                b.header("Authorization", key);
            }
            return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The value of {@code name} on {@code node} (the series with {@code label}, and the node tag). */
    private double metric(String node, String name, String label) {
        HttpResponse<String> r = admin(node, "/metrics", "Bearer " + metricsKey.secret());
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)} ([0-9.eE+-]+)$").matcher(r.body());
        while (m.find()) {
            if (m.group(1).contains("node=\"" + node + "\"") && m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + name + "{" + label + "} on " + node + " in:\n" + r.body());
    }
}
