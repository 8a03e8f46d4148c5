package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
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
import io.keyrelay.testing.TestDatabases;
import jakarta.mail.internet.MimeMessage;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import java.util.UUID;
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
 * GreenMail as the downstream; clients on distinct loopback addresses. Each node names itself in its greeting
 * ({@code smtp.hostname} n1.test …), so a test knows which one it reached. The relay runs in its default queue
 * mode, with a short {@code queue.lease}. The tests run in order: the last one kills a node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final Pattern NODE = Pattern.compile("^(n\\d)\\.test ");

    @TempDir
    static Path dir;
    private TestDatabases.TestDb db;
    private RedisServer redis;
    private GreenMail greenMail;
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
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        greenMail.start();
        List<Haproxy.Node> behind = new ArrayList<>();
        for (String name : List.of("n1", "n2", "n3")) {
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
            env.put("KEYRELAY_DOWNSTREAM_PORT", Integer.toString(greenMail.getSmtp().getPort()));
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
        if (greenMail != null) {
            greenMail.stop();
        }
        if (redis != null) {
            redis.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    @Order(1)
    void aKeyLimitedToNPerMinute_sendsNAcrossTheCluster_notThreeTimesN() {
        CreatedKey key = keys.create(spec("limited", new KeyLimits(6L, null, null, null), Grant.SMTP_INJECT),
                Actor.CLI);
        Map<String, Integer> acceptedBy = new HashMap<>();
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 18; i++) {
            try (Session s = session("127.0.0.2")) {
                s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
                RawSmtpClient.Reply mail = s.client.command("MAIL FROM:<app@example.com>");
                if (mail.code() == 250) {
                    finish(s.client, "limited-" + i);
                    accepted++;
                    acceptedBy.merge(s.node, 1, Integer::sum);
                } else {
                    assertThat(mail.code()).as(mail.toString()).isEqualTo(451);
                    assertThat(mail.text()).contains("6 messages per minute");
                    refused++;
                }
            }
        }
        assertThat(accepted).as("accepted by %s", acceptedBy).isEqualTo(6);
        assertThat(refused).isEqualTo(12);
        assertThat(acceptedBy.size()).as("the six went through more than one node: %s", acceptedBy).isGreaterThan(1);
    }

    @Test
    @Order(2)
    void fiveFailedAuthsSpreadOverTheNodes_banTheAddressOnAll() {
        Set<String> failedOn = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            try (Session s = session("127.0.0.3")) {
                RawSmtpClient.Reply r = s.client.command("AUTH PLAIN "
                        + RawSmtpClient.plain("SMTP_Injection", "0".repeat(39) + i));
                assertThat(r.code()).as("wrong key %d on %s: %s", i, s.node, r).isIn(535, 421);
                failedOn.add(s.node);
            }
        }
        assertThat(failedOn).as("the failures were spread").hasSize(3);
        // Banned on every node: three connections in a row, one per node, are refused at the greeting.
        Set<String> refusedBy = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", haproxy.port("smtp"), "127.0.0.3")) {
                RawSmtpClient.Reply greeting = c.read();
                assertThat(greeting.code()).as(greeting.toString()).isEqualTo(421);
                refusedBy.add(greeting.text());
            }
        }
        assertThat(refusedBy).isNotEmpty();
        // Another address is not affected.
        try (Session s = session("127.0.0.4")) {
            assertThat(s.node).isNotNull();
        }
        for (String n : nodes.keySet()) {
            assertThat(metric(n, "keyrelay_smtp_refused_total", "reason=\"auth_ban\"")).as(n).isPositive();
        }
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
        int before = greenMail.getReceivedMessages().length;
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
        await().atMost(Duration.ofSeconds(10)).until(() -> greenMail.getReceivedMessages().length >= expected);
        assertThat(redis.cli("--scan", "--pattern", "keyrelay:{" + key.key().id() + "}:*"))
                .as("counting in Redis again").contains("minute");
    }

    @Test
    @Order(5)
    void oneNodeKilled_clientsReconnectThroughHaproxyToTheOthers_andNothingAcknowledgedIsLost() throws Exception {
        CreatedKey key = keys.create(spec("steady", null, Grant.SMTP_INJECT), Actor.CLI);
        List<String> acknowledged = new ArrayList<>();
        Set<String> nodesAfterKill = new HashSet<>();
        int attempts = 0;
        for (int i = 0; i < 30 && attempts < 120; i++) {
            if (i == 10) {
                nodes.get("n2").process().destroyForcibly(); // SIGKILL
            }
            String subject = "steady-" + i + "-" + UUID.randomUUID();
            boolean done = false;
            while (!done && attempts++ < 120) {
                try (Session s = session("127.0.0.6")) {
                    s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret()))
                            .assertCode(235);
                    s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
                    if (finish(s.client, subject)) {
                        acknowledged.add(subject);
                        done = true;
                        if (i >= 10) {
                            nodesAfterKill.add(s.node);
                        }
                    }
                } catch (UncheckedIOException | AssertionError e) {
                    // The node went away under this client, or HAProxy had not yet seen it go: reconnect.
                }
            }
        }
        assertThat(acknowledged).hasSize(30);
        assertThat(nodesAfterKill).as("served by the others").doesNotContain("n2").isNotEmpty();
        // Each 250 was a commit to the shared store: what the killed node had not delivered, another does (after
        // the lease, for what it had claimed).
        await().atMost(Duration.ofSeconds(60)).until(() -> subjects().containsAll(acknowledged));
        assertThat(subjects()).containsAll(acknowledged);
    }

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

    /** RCPT, DATA and the message; true when the relay answered 250. */
    private static boolean finish(RawSmtpClient c, String subject) {
        c.command("RCPT TO:<someone@dest.test>").assertCode(250);
        c.command("DATA").assertCode(354);
        c.write(RawSmtpClient.stuff(("From: app@example.com\r\nTo: someone@dest.test\r\nSubject: " + subject
                + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII)));
        return c.read().code() == 250;
    }

    private boolean sendOne(CreatedKey key, String subject) {
        try (Session s = session("127.0.0.7")) {
            s.client.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            s.client.command("MAIL FROM:<app@example.com>").assertCode(250);
            return finish(s.client, subject);
        }
    }

    private Set<String> subjects() throws Exception {
        Set<String> out = new HashSet<>();
        for (MimeMessage m : greenMail.getReceivedMessages()) {
            out.add(m.getSubject());
        }
        return out;
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
