package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.limits.Admission;
import io.keyrelay.limits.MessageLimiter;
import io.keyrelay.limits.RedisMessageCounters;
import io.keyrelay.limits.Reservation;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.smtp.AuthFailureStore;
import io.keyrelay.smtp.AuthThrottle;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.RedisServer;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The counters two nodes share through a real Redis (a throwaway {@code redis-server} this test owns, so it can be
 * stopped and started): a key's minute rate and day quota hold across both nodes; distinct wrong keys from one
 * address count across both and the ban holds on both, with the in-memory store's semantics; with Redis gone each
 * node counts on its own (mail is never refused for it), the fallback is counted, and Redis is used again by itself
 * once it is back; and what each costs in round trips.
 */
class RedisCountersIT {
    private static final RelayConfig DEFAULTS = ConfigLoader.build(new ConfigLoader.Raw(Map.of(), List.of()));

    @TempDir
    Path dir;
    private RedisServer server;
    private Redis nodeA;
    private Redis nodeB;

    @BeforeEach
    void start() {
        server = RedisServer.start(dir.resolve("redis"));
        nodeA = Redis.start(redisConfig());
        nodeB = Redis.start(redisConfig());
        await().atMost(Duration.ofSeconds(10)).until(() -> nodeA.up() && nodeB.up());
    }

    @AfterEach
    void stop() {
        nodeA.close();
        nodeB.close();
        server.close();
    }

    /** A generous timeout: on a loaded test machine a GC pause must not count Redis as gone. */
    private RelayConfig.Redis redisConfig() {
        return new RelayConfig.Redis(server.url(), "", Duration.ofSeconds(1));
    }

    private static MessageLimiter limiter(Redis redis) {
        return new MessageLimiter(DEFAULTS.limits(), DEFAULTS.smtp(), Clock.systemUTC(), 1000,
                new RedisMessageCounters(redis));
    }

    private static SendingLimits limits(long perMinute, long perDay) {
        return new SendingLimits(perMinute, perDay, 100, 1 << 20);
    }

    @Test
    void aKeysMinuteRate_holdsAcrossTwoNodes_andAGivenBackMessageCanBeSentAgain() {
        MessageLimiter a = limiter(nodeA);
        MessageLimiter b = limiter(nodeB);
        String key = "k-" + UUID.randomUUID();
        SendingLimits fivePerMinute = limits(5, 0);
        for (int i = 0; i < 5; i++) {
            assertThat((i % 2 == 0 ? a : b).admit(key, fivePerMinute)).as("message %d", i + 1)
                    .isInstanceOf(Reservation.class);
        }
        assertThat(a.admit(key, fivePerMinute)).isEqualTo(
                new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_MINUTE, 5));
        Admission refusedOnB = b.admit(key, fivePerMinute);
        assertThat(refusedOnB).isInstanceOf(Admission.Refusal.class);
        assertThat(nodeA.fallbacks() + nodeB.fallbacks()).isZero();
    }

    @Test
    void aKeysDayQuota_holdsAcrossTwoNodes_andReleaseGivesTheCountBack() {
        MessageLimiter a = limiter(nodeA);
        MessageLimiter b = limiter(nodeB);
        RedisMessageCounters counters = new RedisMessageCounters(nodeA);
        String key = "k-" + UUID.randomUUID();
        SendingLimits threePerDay = limits(0, 3);
        long today = Math.floorDiv(Instant.now().getEpochSecond(), 86_400L);
        Reservation first = (Reservation) a.admit(key, threePerDay);
        assertThat(b.admit(key, threePerDay)).isInstanceOf(Reservation.class);
        assertThat(a.admit(key, threePerDay)).isInstanceOf(Reservation.class);
        assertThat(counters.countedOn(key, today)).isEqualTo(3);
        assertThat(b.admit(key, threePerDay)).isEqualTo(new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_DAY, 3));
        first.release(); // the downstream did not take it
        first.release(); // twice is harmless
        assertThat(counters.countedOn(key, today)).isEqualTo(2);
        assertThat(b.admit(key, threePerDay)).isInstanceOf(Reservation.class);
        assertThat(a.admit(key, threePerDay)).isInstanceOf(Admission.Refusal.class);
    }

    @Test
    void authFailures_distinctWrongKeysCountAcrossNodes_oneStaleKeyCountsOnce_andTheBanHoldsOnBoth()
            throws Exception {
        MutableClock clock = MutableClock.startingNow();
        RelayConfig.AuthLimits limits = new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000);
        AuthThrottle a = new AuthThrottle(limits, clock, d -> { },
                new RedisAuthFailures(nodeA, AuthThrottle.onThisNode(limits, clock), clock));
        AuthThrottle b = new AuthThrottle(limits, clock, d -> { },
                new RedisAuthFailures(nodeB, AuthThrottle.onThisNode(limits, clock), clock));
        InetAddress guesser = InetAddress.getByName("127.0.0." + (10 + (int) (Math.random() * 200)));
        // One stale key, retried on both nodes many times, counts once.
        for (int i = 0; i < 10; i++) {
            assertThat((i % 2 == 0 ? a : b).failed(guesser, "stale-key")).isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        // Three more distinct keys spread over the nodes: four in all, still no ban.
        assertThat(a.failed(guesser, "guess-1")).isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(b.failed(guesser, "guess-2")).isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(a.failed(guesser, "guess-3")).isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(a.isBanned(guesser) || b.isBanned(guesser)).isFalse();
        // The fifth distinct one, on B, bans the address on A too.
        assertThat(b.failed(guesser, "guess-4")).isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(a.isBanned(guesser)).isTrue();
        assertThat(a.bannedUntil(guesser)).contains(b.bannedUntil(guesser).orElseThrow());
        // Nothing secret in Redis: fingerprints, never the keys.
        assertThat(server.cli("--scan")).doesNotContain("guess-", "stale-key");
        assertThat(nodeA.fallbacks() + nodeB.fallbacks()).isZero();
    }

    /**
     * On the Redis that {@code scripts/test} provides ({@code keyrelay.test.redis.url}, default 127.0.0.1:6379), as an
     * operator's would be: a bucket's count is the distinct fingerprints within the window, strictly.
     */
    @Test
    void authFailures_aFingerprintPresentedExactlyAWindowAgo_noLongerCounts_onTheSharedRedis() throws Exception {
        String url = System.getProperty("keyrelay.test.redis.url", "");
        try (Redis shared = Redis.start(new RelayConfig.Redis(url.isBlank() ? "redis://127.0.0.1:6379" : url, "",
                Duration.ofMillis(500)))) {
            await().atMost(Duration.ofSeconds(10)).until(shared::up);
            windowIsStrict(shared);
        }
    }

    private static void windowIsStrict(Redis redis) throws Exception {
        MutableClock clock = MutableClock.startingNow();
        AuthFailureStore store = new RedisAuthFailures(redis, AuthThrottle.onThisNode(
                new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ZERO, 1000),
                clock), clock);
        String bucket = "test-" + UUID.randomUUID(); // apart from any other user of the shared Redis
        Duration window = Duration.ofMinutes(5);
        assertThat(store.recordFailure(bucket, "f1", clock.instant(), window)).isEqualTo(1);
        clock.advance(Duration.ofMinutes(1));
        assertThat(store.recordFailure(bucket, "f2", clock.instant(), window)).isEqualTo(2);
        clock.advance(Duration.ofMinutes(4));
        assertThat(store.recordFailure(bucket, "f3", clock.instant(), window)).as("f1 left the window").isEqualTo(2);
        assertThat(store.recordFailure(bucket, "f2", clock.instant(), window)).as("f2 refreshed").isEqualTo(2);
        assertThat(store.bannedUntil(bucket, clock.instant())).isEmpty();
        store.ban(bucket, clock.instant().plus(Duration.ofMinutes(15)));
        assertThat(store.bannedUntil(bucket, clock.instant())).contains(clock.instant().plus(Duration.ofMinutes(15)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(store.recordFailure(bucket, "f4", clock.instant(), window)).as("banned: -1, nothing counted")
                .isEqualTo(-1);
        redis.call("end the ban", c -> c.del("keyrelay:auth:{" + bucket + "}:b")); // as its expiry would
        assertThat(store.recordFailure(bucket, "f5", clock.instant(), window)).as("a ban starts the count afresh")
                .isEqualTo(1);
    }

    @Test
    void redisGone_eachNodeCountsAlone_theFallbackIsCounted_andRedisIsUsedAgainOnceBack() {
        MessageLimiter a = limiter(nodeA);
        String key = "k-" + UUID.randomUUID();
        SendingLimits twoPerMinute = limits(2, 0);
        assertThat(a.admit(key, twoPerMinute)).isInstanceOf(Reservation.class);
        long outages = nodeA.outages();
        long fallbacksBefore = nodeA.fallbacks();

        server.stop();
        // Never refused for Redis: the first attempt finds it gone (bounded by cluster.redis.timeout), the rest do
        // not even try; this node's own counters hold the key to its rate meanwhile.
        long t0 = System.nanoTime();
        assertThat(a.admit(key, twoPerMinute)).isInstanceOf(Reservation.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(nodeA.up()).isFalse();
        assertThat(a.admit(key, twoPerMinute)).isInstanceOf(Reservation.class);
        assertThat(a.admit(key, twoPerMinute)).as("counted on this node: 2 per minute")
                .isInstanceOf(Admission.Refusal.class);
        assertThat(nodeA.fallbacks() - fallbacksBefore).isEqualTo(3);
        assertThat(nodeA.outages() - outages).isEqualTo(1);
        assertThat(nodeA.downReason()).isNotBlank();

        server.start(); // empty: a Redis that kept nothing
        await().atMost(Duration.ofSeconds(10)).until(nodeA::up);
        long fallbacks = nodeA.fallbacks();
        assertThat(a.admit(key, twoPerMinute)).isInstanceOf(Reservation.class);
        assertThat(a.admit(key, twoPerMinute)).isInstanceOf(Reservation.class);
        assertThat(a.admit(key, twoPerMinute)).as("counted in Redis again").isInstanceOf(Admission.Refusal.class);
        assertThat(nodeA.fallbacks()).isEqualTo(fallbacks);
    }

    @Test
    void aKeyWithoutLimits_costsNoRoundTrip_aLimitedKey_oneScriptPerMessage() {
        MessageLimiter a = limiter(nodeA);
        String key = "k-" + UUID.randomUUID();
        a.admit(key, limits(1000, 0));
        long before = processed();
        for (int i = 0; i < 50; i++) {
            assertThat(a.admit("free-" + i, limits(0, 0))).isInstanceOf(Reservation.class);
        }
        assertThat(processed() - before).as("commands for 50 messages of keys without limits").isZero();
        long evalsha = calls("evalsha");
        for (int i = 0; i < 50; i++) {
            assertThat(a.admit(key, limits(1000, 100_000))).isInstanceOf(Reservation.class);
        }
        assertThat(calls("evalsha") - evalsha).as("one EVALSHA per limited message").isEqualTo(50);
    }

    @Test
    void aRedisWithAPassword_isUsedWithClusterRedisPassword_andWithoutIt_theNodeCountsAlone() {
        assertThat(server.cli("CONFIG", "SET", "requirepass", "s3cret-pw")).contains("OK");
        try (Redis withPassword = Redis.start(new RelayConfig.Redis(server.url(), "s3cret-pw", Duration.ofMillis(500)));
                Redis without = Redis.start(new RelayConfig.Redis(server.url(), "", Duration.ofMillis(500)))) {
            await().atMost(Duration.ofSeconds(10)).until(withPassword::up);
            String k = "k-" + UUID.randomUUID();
            assertThat(limiter(withPassword).admit(k, limits(1, 0))).isInstanceOf(Reservation.class);
            assertThat(limiter(withPassword).admit(k, limits(1, 0))).isInstanceOf(Admission.Refusal.class);
            assertThat(withPassword.fallbacks()).isZero();
            assertThat(without.up()).isFalse();
            assertThat(limiter(without).admit(k, limits(1, 0))).as("counted on the node instead")
                    .isInstanceOf(Reservation.class);
            assertThat(without.downReason()).doesNotContain("s3cret-pw");
        }
    }

    @Test
    void rediss_countsOverTls_trustingTheConfiguredCa_andAnotherCaIsNotTrusted() throws Exception {
        Path cert = dir.resolve("tls/cert.pem");
        Path key = dir.resolve("tls/key.pem");
        io.keyrelay.tls.SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(1));
        Path other = dir.resolve("other/cert.pem");
        io.keyrelay.tls.SelfSignedCertificate.write(other, dir.resolve("other/key.pem"), List.of(), Duration.ofDays(1));
        try (RedisServer tls = RedisServer.startTls(dir.resolve("redis-tls"), cert, key);
                Redis trusting = Redis.start(new RelayConfig.Redis(tls.url(), "", Duration.ofMillis(500), cert));
                Redis foreign = Redis.start(new RelayConfig.Redis(tls.url(), "", Duration.ofMillis(500), other))) {
            assertThat(tls.url()).startsWith("rediss://");
            await().atMost(Duration.ofSeconds(10)).until(trusting::up);
            MessageLimiter a = limiter(trusting);
            String k = "k-" + UUID.randomUUID();
            assertThat(a.admit(k, limits(1, 0))).isInstanceOf(Reservation.class);
            assertThat(a.admit(k, limits(1, 0))).isInstanceOf(Admission.Refusal.class);
            assertThat(trusting.fallbacks()).isZero();
            assertThat(tls.cli("--scan")).contains(k);
            assertThat(foreign.up()).as("a certificate from another CA is refused").isFalse();
            assertThat(foreign.downReason()).isNotBlank();
        }
    }

    /**
     * The cost rule for the AUTH throttle: a session (a connection and an AUTH, each asking whether the address is
     * banned) from an address without recent failures costs no round trip, counted by Redis itself ({@code INFO
     * commandstats}); a failed AUTH costs one script, a ban two more. A ban made on B is heard on A within
     * {@link RedisChannel#TRUST} (in practice milliseconds) without A asking; a node that starts listening later
     * reads the bans in force; and a cut notice connection is made again by itself and heard on again.
     */
    @Test
    void banChecks_costNoRoundTrip_aBanOnOneNodeIsHeardOnTheOther_aLateNodeCatchesUp_andACutListenerComesBack()
            throws Exception {
        Clock clock = Clock.systemUTC();
        RelayConfig.AuthLimits limits = new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000);
        RedisAuthFailures storeA = new RedisAuthFailures(nodeA, AuthThrottle.onThisNode(limits, clock), clock);
        RedisAuthFailures storeB = new RedisAuthFailures(nodeB, AuthThrottle.onThisNode(limits, clock), clock);
        AuthThrottle a = new AuthThrottle(limits, clock, d -> { }, storeA);
        AuthThrottle b = new AuthThrottle(limits, clock, d -> { }, storeB);
        await().atMost(Duration.ofSeconds(10)).until(() -> storeA.noticesCurrent() && storeB.noticesCurrent());

        long before = lookups();
        for (int i = 0; i < 100; i++) {
            InetAddress client = InetAddress.getByName("10.1." + (i / 250) + "." + (1 + i % 250));
            assertThat(a.isBanned(client)).isFalse(); // at the connection
            assertThat((i % 2 == 0 ? a : b).isBanned(client)).isFalse(); // at AUTH
        }
        assertThat(lookups() - before).as("round trips for 100 sessions of addresses without failures").isZero();

        InetAddress guesser = InetAddress.getByName("10.2.0." + (1 + (int) (Math.random() * 200)));
        long evalsha = calls("evalsha");
        for (int i = 0; i < 4; i++) {
            assertThat(b.failed(guesser, "guess-" + i)).isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        assertThat(calls("evalsha") - evalsha).as("one script per failed AUTH").isEqualTo(4);
        assertThat(b.failed(guesser, "guess-4")).isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(calls("evalsha") - evalsha).as("and two for the ban").isEqualTo(7);
        long gets = calls("get");
        await().atMost(RedisChannel.TRUST).pollInterval(Duration.ofMillis(5)).until(() -> a.isBanned(guesser));
        assertThat(a.bannedUntil(guesser)).isEqualTo(b.bannedUntil(guesser));
        assertThat(calls("get") - gets).as("A heard of the ban; it did not ask").isZero();
        // A wrong key on A is refused as banned by the count itself, whatever A has heard.
        assertThat(a.failed(guesser, "guess-5")).isEqualTo(AuthThrottle.Outcome.BANNED);

        // A node that was not listening when the ban was announced reads it when it starts to.
        try (Redis nodeC = Redis.start(redisConfig())) {
            RedisAuthFailures storeC = new RedisAuthFailures(nodeC, AuthThrottle.onThisNode(limits, clock), clock);
            await().atMost(Duration.ofSeconds(10)).until(storeC::noticesCurrent);
            long getsBefore = calls("get");
            assertThat(new AuthThrottle(limits, clock, d -> { }, storeC).isBanned(guesser)).isTrue();
            assertThat(calls("get") - getsBefore).isZero();
        }

        // Notice connections cut: each node subscribes again by itself, and hears the next ban.
        long subscribes = calls("subscribe");
        server.cli("CLIENT", "KILL", "TYPE", "pubsub");
        await().atMost(Duration.ofSeconds(10)).until(() -> calls("subscribe") - subscribes >= 2
                && storeA.noticesCurrent() && storeB.noticesCurrent());
        InetAddress second = InetAddress.getByName("10.3.0." + (1 + (int) (Math.random() * 200)));
        for (int i = 0; i < 5; i++) {
            b.failed(second, "other-" + i);
        }
        await().atMost(RedisChannel.TRUST).pollInterval(Duration.ofMillis(5)).until(() -> a.isBanned(second));
        assertThat(nodeA.fallbacks() + nodeB.fallbacks()).isZero();
    }

    /**
     * A Redis user without the notice channel (Redis 7 gives new ACL users none): bans still hold across the nodes,
     * Redis is not counted as down, and each check asks Redis (one GET) since nothing is heard.
     */
    @Test
    void aRedisUserWithoutTheChannel_stillBansAcrossNodes_askingAtEachCheck() throws Exception {
        assertThat(server.cli("ACL", "SETUSER", "relay", "on", ">relay-pw", "~*", "+@all", "resetchannels"))
                .contains("OK");
        String url = server.url().replace("redis://", "redis://relay@");
        Clock clock = Clock.systemUTC();
        RelayConfig.AuthLimits limits = new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000);
        try (Redis a = Redis.start(new RelayConfig.Redis(url, "relay-pw", Duration.ofSeconds(1)));
                Redis b = Redis.start(new RelayConfig.Redis(url, "relay-pw", Duration.ofSeconds(1)))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.up() && b.up());
            RedisAuthFailures storeA = new RedisAuthFailures(a, AuthThrottle.onThisNode(limits, clock), clock);
            AuthThrottle onA = new AuthThrottle(limits, clock, d -> { }, storeA);
            AuthThrottle onB = new AuthThrottle(limits, clock, d -> { },
                    new RedisAuthFailures(b, AuthThrottle.onThisNode(limits, clock), clock));
            // It subscribes (or believes it does) and publishes heartbeats, which Redis refuses: it hears none.
            Thread.sleep(RedisChannel.TRUST.toMillis() + 2 * RedisChannel.TICK.toMillis());
            assertThat(storeA.noticesCurrent()).isFalse();
            InetAddress guesser = InetAddress.getByName("10.4.0." + (1 + (int) (Math.random() * 200)));
            long gets = calls("get");
            assertThat(onA.isBanned(guesser)).isFalse();
            assertThat(calls("get") - gets).as("asked Redis").isEqualTo(1);
            for (int i = 0; i < 4; i++) {
                onB.failed(guesser, "guess-" + i);
            }
            assertThat(onB.failed(guesser, "guess-4")).isEqualTo(AuthThrottle.Outcome.BANNED);
            assertThat(onA.isBanned(guesser)).as("read from Redis").isTrue();
            assertThat(a.up() && b.up()).isTrue();
            assertThat(a.fallbacks() + b.fallbacks()).isZero();
        }
    }

    /** A connection Redis drops is replaced by the probe (Lettuce does not reconnect, so it re-sends nothing). */
    @Test
    void aConnectionRedisDrops_isReplaced_andCountingInRedisResumes() {
        MessageLimiter a = limiter(nodeA);
        String key = "k-" + UUID.randomUUID();
        assertThat(a.admit(key, limits(100, 0))).isInstanceOf(Reservation.class);
        server.cli("CLIENT", "KILL", "TYPE", "normal");
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            a.admit(key, limits(100, 0)); // counted on this node until the probe has a new connection
            return !nodeA.up() || nodeA.fallbacks() > 0;
        });
        await().atMost(Duration.ofSeconds(10)).until(nodeA::up);
        RedisMessageCounters counters = new RedisMessageCounters(nodeA);
        long today = Math.floorDiv(Instant.now().getEpochSecond(), 86_400L);
        SendingLimits daily = limits(0, 100);
        long fallbacks = nodeA.fallbacks();
        assertThat(a.admit(key, daily)).isInstanceOf(Reservation.class);
        assertThat(counters.countedOn(key, today)).as("counted in Redis again").isEqualTo(1);
        assertThat(nodeA.fallbacks()).isEqualTo(fallbacks);
    }

    /**
     * A script that Redis ran but whose answer was lost with its connection runs once: Lettuce's auto-reconnect would
     * re-send it on the new connection (at least once) and count the message twice. Here a proxy between the node
     * and Redis swallows the answer to one count, then cuts the connection.
     */
    @Test
    void aCountWhoseAnswerIsLostWithTheConnection_isNotSentAgain() throws Exception {
        try (CuttingProxy proxy = new CuttingProxy(server.port());
                Redis behind = Redis.start(new RelayConfig.Redis("redis://127.0.0.1:" + proxy.port(), "",
                        Duration.ofSeconds(3)))) {
            await().atMost(Duration.ofSeconds(10)).until(behind::up);
            MessageLimiter a = limiter(behind);
            RedisMessageCounters direct = new RedisMessageCounters(nodeA);
            String key = "k-" + UUID.randomUUID();
            long today = Math.floorDiv(Instant.now().getEpochSecond(), 86_400L);
            SendingLimits daily = limits(0, 100);
            assertThat(a.admit(key, daily)).isInstanceOf(Reservation.class);
            assertThat(direct.countedOn(key, today)).isEqualTo(1);

            proxy.swallowAnswers(true);
            java.util.concurrent.CompletableFuture<Admission> second =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> a.admit(key, daily));
            await().atMost(Duration.ofSeconds(5)).until(() -> direct.countedOn(key, today) == 2); // Redis ran it
            proxy.swallowAnswers(false);
            proxy.cut();
            assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("counted on the node instead")
                    .isInstanceOf(Reservation.class);
            await().atMost(Duration.ofSeconds(10)).until(behind::up); // a new connection, through the proxy
            Thread.sleep(500); // time for a re-sent command to arrive, if one were
            assertThat(direct.countedOn(key, today)).as("the script ran once").isEqualTo(2);
            assertThat(a.admit(key, daily)).isInstanceOf(Reservation.class);
            assertThat(direct.countedOn(key, today)).as("counting in Redis again").isEqualTo(3);
        }
    }

    /**
     * The bound on trusting what a node has heard: its notice connection goes silent (open, but nothing comes back
     * through it), and within {@link RedisChannel#TRUST} and a tick or two the node stops answering from memory and
     * asks Redis, so a ban made meanwhile on another node holds there.
     */
    @Test
    void aSilentNoticeConnection_isTrustedNoLongerThanTheBound_andBansAreReadFromRedisMeanwhile() throws Exception {
        Clock clock = Clock.systemUTC();
        RelayConfig.AuthLimits limits = new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000);
        try (CuttingProxy proxy = new CuttingProxy(server.port());
                Redis behind = Redis.start(new RelayConfig.Redis("redis://127.0.0.1:" + proxy.port(), "",
                        Duration.ofSeconds(1)))) {
            await().atMost(Duration.ofSeconds(10)).until(behind::up); // its first connection: the counters'
            RedisAuthFailures store = new RedisAuthFailures(behind, AuthThrottle.onThisNode(limits, clock), clock);
            AuthThrottle here = new AuthThrottle(limits, clock, d -> { }, store);
            AuthThrottle elsewhere = new AuthThrottle(limits, clock, d -> { },
                    new RedisAuthFailures(nodeB, AuthThrottle.onThisNode(limits, clock), clock));
            await().atMost(Duration.ofSeconds(10)).until(store::noticesCurrent);

            proxy.swallowAnswersFrom(1); // the notice connection, and any made after it, hear nothing
            long t0 = System.nanoTime();
            await().atMost(RedisChannel.TRUST.multipliedBy(3)).pollInterval(Duration.ofMillis(10))
                    .until(() -> !store.noticesCurrent());
            long lapsed = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("RedisCountersIT: a silent notice connection stopped being trusted after %d ms"
                    + " (bound %d ms and a tick)%n", lapsed, RedisChannel.TRUST.toMillis());
            InetAddress guesser = InetAddress.getByName("10.5.0." + (1 + (int) (Math.random() * 200)));
            for (int i = 0; i < 5; i++) {
                elsewhere.failed(guesser, "guess-" + i);
            }
            long gets = calls("get");
            assertThat(here.isBanned(guesser)).as("read from Redis, not heard").isTrue();
            assertThat(calls("get") - gets).isEqualTo(1);
            assertThat(behind.up()).isTrue();
        }
    }

    /** A TCP proxy to Redis that can swallow Redis's answers and cut every connection. */
    private static final class CuttingProxy implements AutoCloseable {
        private final java.net.ServerSocket listener;
        private final List<java.net.Socket> open = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.concurrent.atomic.AtomicInteger accepted =
                new java.util.concurrent.atomic.AtomicInteger();
        private volatile boolean swallow;
        private volatile int swallowFrom = Integer.MAX_VALUE;

        CuttingProxy(int redisPort) throws java.io.IOException {
            listener = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        java.net.Socket client = listener.accept();
                        java.net.Socket upstream = new java.net.Socket(InetAddress.getLoopbackAddress(), redisPort);
                        open.add(client);
                        open.add(upstream);
                        int index = accepted.getAndIncrement();
                        Thread.ofVirtual().start(() -> pump(client, upstream, -1));
                        Thread.ofVirtual().start(() -> pump(upstream, client, index));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        void swallowAnswers(boolean on) {
            swallow = on;
        }

        /** Swallows Redis's answers on the connections made from the {@code index}th on (0: the first). */
        void swallowAnswersFrom(int index) {
            swallowFrom = index;
        }

        void cut() {
            open.forEach(s -> {
                try {
                    s.close();
                } catch (java.io.IOException e) {
                    // closing
                }
            });
            open.clear();
        }

        /** Copies {@code from} to {@code to}; {@code answers} is the connection's index for Redis's side, else -1. */
        private void pump(java.net.Socket from, java.net.Socket to, int answers) {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    if (answers < 0 || !(swallow || answers >= swallowFrom)) {
                        to.getOutputStream().write(buf, 0, n);
                    }
                }
            } catch (java.io.IOException e) {
                // cut
            }
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
            cut();
        }
    }

    /** Calls of the commands a ban check or a count can cost: GET, EVALSHA, EVAL. */
    private long lookups() {
        return calls("get") + calls("evalsha") + calls("eval");
    }

    /** Commands Redis has processed, less the INFO that asks. */
    private long processed() {
        Matcher m = Pattern.compile("total_commands_processed:(\\d+)").matcher(server.cli("INFO", "stats"));
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1)) - countedInfos++;
    }

    private long countedInfos;

    private long calls(String command) {
        Matcher m = Pattern.compile("cmdstat_" + command + ":calls=(\\d+)").matcher(server.cli("INFO", "commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
