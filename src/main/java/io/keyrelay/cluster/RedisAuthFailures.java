package io.keyrelay.cluster;

import io.keyrelay.smtp.AuthFailureStore;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The AUTH-failure counts in Redis, shared by every node, so five wrong keys spread over the nodes ban the address
 * on all of them. The same semantics as {@link io.keyrelay.smtp.InMemoryAuthFailures}: per bucket a sorted set of
 * the distinct wrong secrets' fingerprints (64-bit hash prefixes, never a secret) scored by when each was last
 * presented, and a ban with its end. Each operation is one script, so atomic across nodes.
 *
 * <p>Whether an address is banned is asked at every connection and AUTH, and nearly always the answer is no: so it
 * is answered here, without a round trip, from the bans this node knows of. A node that bans an address publishes
 * it on {@link #NOTICES}; every node listens ({@link RedisChannel}) and notes each ban in {@code local}, and after
 * each (re)subscription reads the bans in force from {@link #BANS}. While the channel is not {@link
 * RedisChannel#current() current} (its connection cut, Redis slow or down) the ban is read from Redis (one GET) as
 * before. A failed AUTH is counted by a script that refuses to count, and answers the ban, when the address is
 * banned already: so even a notice not yet heard lets a banned address's next wrong key go no further.
 *
 * <p>While Redis is down, {@code local} (this node's own store) counts and bans instead; counts made there stay
 * there when Redis is back. Keys: {@code keyrelay:auth:{<bucket>}:f} and {@code keyrelay:auth:{<bucket>}:b}, each
 * expiring with its window or its ban, and {@code keyrelay:auth:bans} (bucket by the ban's end, pruned as they end).
 */
public final class RedisAuthFailures implements AuthFailureStore {
    /** The pub/sub channel bans are announced on: {@code <bucket> <end in epoch milliseconds>}. */
    public static final String NOTICES = "keyrelay:auth:ban-notices";
    /** The bans in force, for a node that was not listening when they were announced. */
    static final String BANS = "keyrelay:auth:bans";

    private static final Redis.Script RECORD = Redis.Script.of("""
            local banned = redis.call('GET', KEYS[2])
            if banned then
              return -tonumber(banned)
            end
            redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return redis.call('ZCARD', KEYS[1])
            """);
    private static final Redis.Script BAN = Redis.Script.of("""
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
            redis.call('DEL', KEYS[1])
            -- pcall: a Redis user without the channel's permission still bans; the nodes then ask at each check
            redis.pcall('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. ARGV[1])
            return 1
            """);
    /** Before the ban itself, so a node that subscribes after the announcement finds the ban in the list. */
    private static final Redis.Script LIST_BAN = Redis.Script.of("""
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
            redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
            if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
              redis.call('PEXPIRE', KEYS[1], ARGV[4])
            end
            return 1
            """);

    private final Redis redis;
    private final AuthFailureStore local;
    private final Clock clock;
    private final RedisChannel notices;

    /** Counts in {@code redis}, in {@code local} while it is down; {@code clock} is the throttle's. */
    public RedisAuthFailures(Redis redis, AuthFailureStore local, Clock clock) {
        this.redis = redis;
        this.local = local;
        this.clock = clock;
        redis.preload(RECORD);
        redis.preload(BAN);
        redis.preload(LIST_BAN);
        this.notices = redis.listen(NOTICES, this::heard, this::catchUp);
    }

    /** Whether this node answers "not banned" without asking Redis now (it has heard every ban until lately). */
    public boolean noticesCurrent() {
        return notices.current();
    }

    @Override
    public int recordFailure(String bucket, String fingerprint, Instant now, Duration window) {
        Long n = redis.call("count a failed AUTH", c -> Redis.run(c, RECORD, ScriptOutputType.INTEGER, keys(bucket),
                Long.toString(now.toEpochMilli()), Long.toString(window.toMillis()), fingerprint));
        if (n == null) {
            return local.recordFailure(bucket, fingerprint, now, window);
        }
        if (n < 0) { // banned already, on another node: its notice is on its way, or was missed
            local.ban(bucket, Instant.ofEpochMilli(-n));
            return -1;
        }
        return (int) (long) n;
    }

    @Override
    public void ban(String bucket, Instant until) {
        long ms = Math.max(1, Duration.between(clock.instant(), until).toMillis());
        String end = Long.toString(until.toEpochMilli());
        redis.call("ban an address", c -> {
            Redis.run(c, LIST_BAN, ScriptOutputType.INTEGER, new String[] {BANS}, end, bucket,
                    Long.toString(clock.millis()), Long.toString(ms));
            return Redis.run(c, BAN, ScriptOutputType.INTEGER, keys(bucket), end, Long.toString(ms), NOTICES,
                    bucket);
        });
        local.ban(bucket, until); // here at once without asking, and here alone while Redis is away
    }

    @Override
    public Optional<Instant> bannedUntil(String bucket, Instant now) {
        Optional<Instant> here = local.bannedUntil(bucket, now); // heard of, or made here while Redis was away
        if (here.isPresent() || notices.current()) {
            return here;
        }
        String v = redis.call("read a ban", c -> Optional.ofNullable(c.get(keys(bucket)[1])).orElse(""));
        if (v == null || v.isEmpty()) {
            return Optional.empty();
        }
        Instant until = Instant.ofEpochMilli(Long.parseLong(v));
        if (!until.isAfter(now)) {
            return Optional.empty();
        }
        local.ban(bucket, until);
        return Optional.of(until);
    }

    /** A ban announced by some node (this one too): {@code <bucket> <end>}. */
    private void heard(String notice) {
        int space = notice.lastIndexOf(' ');
        local.ban(notice.substring(0, space), Instant.ofEpochMilli(Long.parseLong(notice.substring(space + 1))));
    }

    /** The bans in force, read after (re)subscribing. */
    private boolean catchUp(io.lettuce.core.api.sync.RedisCommands<String, String> c) {
        long now = clock.millis();
        for (io.lettuce.core.ScoredValue<String> v : c.zrangebyscoreWithScores(BANS,
                io.lettuce.core.Range.create((double) now, Double.POSITIVE_INFINITY))) {
            local.ban(v.getValue(), Instant.ofEpochMilli((long) v.getScore()));
        }
        return true;
    }

    /** The buckets this node remembers itself (counted while Redis was away, or bans); Redis's are not counted. */
    @Override
    public long trackedBuckets() {
        return local.trackedBuckets();
    }

    private static String[] keys(String bucket) {
        String slot = "keyrelay:auth:{" + bucket + "}:";
        return new String[] {slot + "f", slot + "b"};
    }
}
