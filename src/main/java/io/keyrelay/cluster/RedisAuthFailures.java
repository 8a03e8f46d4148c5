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
 * presented, and a ban with its end. Each operation is one script or one GET, so atomic across nodes.
 *
 * <p>While Redis is down, {@code local} (this node's own store) counts and bans instead; counts made there stay
 * there when Redis is back. Keys: {@code keyrelay:auth:{<bucket>}:f} and {@code keyrelay:auth:{<bucket>}:b}, each
 * expiring with its window or its ban.
 */
public final class RedisAuthFailures implements AuthFailureStore {
    private static final Redis.Script RECORD = Redis.Script.of("""
            redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return redis.call('ZCARD', KEYS[1])
            """);
    private static final Redis.Script BAN = Redis.Script.of("""
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
            redis.call('DEL', KEYS[1])
            return 1
            """);

    private final Redis redis;
    private final AuthFailureStore local;
    private final Clock clock;

    /** Counts in {@code redis}, in {@code local} while it is down; {@code clock} is the throttle's. */
    public RedisAuthFailures(Redis redis, AuthFailureStore local, Clock clock) {
        this.redis = redis;
        this.local = local;
        this.clock = clock;
        redis.preload(RECORD);
        redis.preload(BAN);
    }

    @Override
    public int recordFailure(String bucket, String fingerprint, Instant now, Duration window) {
        Long n = redis.call("count a failed AUTH", c -> Redis.run(c, RECORD, ScriptOutputType.INTEGER, keys(bucket),
                Long.toString(now.toEpochMilli()), Long.toString(window.toMillis()), fingerprint));
        return n == null ? local.recordFailure(bucket, fingerprint, now, window) : (int) (long) n;
    }

    @Override
    public void ban(String bucket, Instant until) {
        long ms = Math.max(1, Duration.between(clock.instant(), until).toMillis());
        Long done = redis.call("ban an address", c -> Redis.run(c, BAN, ScriptOutputType.INTEGER, keys(bucket),
                Long.toString(until.toEpochMilli()), Long.toString(ms)));
        if (done == null) {
            local.ban(bucket, until);
        }
    }

    @Override
    public Optional<Instant> bannedUntil(String bucket, Instant now) {
        Optional<Instant> here = local.bannedUntil(bucket, now); // a ban made here while Redis was away still holds
        if (here.isPresent()) {
            return here;
        }
        String v = redis.call("read a ban", c -> Optional.ofNullable(c.get(keys(bucket)[1])).orElse(""));
        if (v == null || v.isEmpty()) {
            return Optional.empty();
        }
        Instant until = Instant.ofEpochMilli(Long.parseLong(v));
        return until.isAfter(now) ? Optional.of(until) : Optional.empty();
    }

    /** The buckets this node remembers itself (those counted while Redis was away); Redis's own are not counted. */
    @Override
    public long trackedBuckets() {
        return local.trackedBuckets();
    }

    private static String[] keys(String bucket) {
        String slot = "keyrelay:auth:{" + bucket + "}:";
        return new String[] {slot + "f", slot + "b"};
    }
}
