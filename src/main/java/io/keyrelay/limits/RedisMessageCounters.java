package io.keyrelay.limits;

import io.keyrelay.cluster.Redis;
import io.keyrelay.keys.KeyLimits;
import io.lettuce.core.ScriptOutputType;
import java.util.List;

/**
 * Per-key message counters in Redis, shared by every node: the same GCRA minute rate and UTC-day count as
 * {@link KeyCounters}, taken together atomically by one Lua script, so one round trip per MAIL of a limited key.
 * The minute rate runs on Redis's own clock ({@code TIME}), so the nodes' clocks need not agree; the day is the
 * node's UTC day. A give-back (the transaction ended without the downstream accepting) is a second script, on
 * that path only.
 *
 * <p>Keys: {@code keyrelay:{<key id>}:minute} (the theoretical arrival time in microseconds, expiring when it has
 * passed) and {@code keyrelay:{<key id>}:day:<day>} (expiring after two days); the braces keep both in one slot of
 * a Redis Cluster. Nothing secret is stored: key ids and counts.
 */
public final class RedisMessageCounters implements SharedCounters {
    private static final Redis.Script ADMIT = Redis.Script.of("""
            local perMin = tonumber(ARGV[1])
            local perDay = tonumber(ARGV[2])
            if perDay > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= perDay then
              return {2, 0}
            end
            local interval = 0
            if perMin > 0 then
              local t = redis.call('TIME')
              local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
              interval = math.max(1, math.floor(60000000 / perMin))
              local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
              local start = math.max(tat, now)
              if start - now > 60000000 - interval then
                return {1, 0}
              end
              redis.call('SET', KEYS[1], string.format('%d', start + interval),
                'PX', math.floor((start + interval - now) / 1000) + 1000)
            end
            if perDay > 0 then
              redis.call('INCR', KEYS[2])
              redis.call('EXPIRE', KEYS[2], 172800)
            end
            return {0, interval}
            """);
    private static final Redis.Script GIVE_BACK = Redis.Script.of("""
            local interval = tonumber(ARGV[1])
            if interval > 0 then
              local tat = redis.call('GET', KEYS[1])
              if tat then
                redis.call('SET', KEYS[1], string.format('%d', tonumber(tat) - interval), 'KEEPTTL')
              end
            end
            if ARGV[2] == '1' and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
              redis.call('DECR', KEYS[2])
            end
            return 0
            """);

    private final Redis redis;

    public RedisMessageCounters(Redis redis) {
        this.redis = redis;
        redis.preload(ADMIT);
        redis.preload(GIVE_BACK);
    }

    @Override
    public Admission admit(String keyId, SendingLimits limits, long day) {
        String[] keys = keys(keyId, day);
        List<Object> r = redis.call("count a message", c -> Redis.run(c, ADMIT, ScriptOutputType.MULTI, keys,
                Long.toString(limits.messagesPerMinute()), Long.toString(limits.messagesPerDay())));
        if (r == null) {
            return null;
        }
        long code = (Long) r.get(0);
        if (code == 2) {
            return new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_DAY, limits.messagesPerDay());
        }
        if (code == 1) {
            return new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_MINUTE, limits.messagesPerMinute());
        }
        long interval = (Long) r.get(1);
        return new Reservation((minuteInterval, counted) -> giveBack(keys, minuteInterval, counted >= 0),
                interval, limits.messagesPerDay() > 0 ? day : -1);
    }

    /** Messages counted for {@code keyId} on {@code day} across the cluster; -1 if Redis is down. */
    public long countedOn(String keyId, long day) {
        Long n = redis.call("read a day count", c -> {
            String v = c.get(keys(keyId, day)[1]);
            return v == null ? 0L : Long.parseLong(v);
        });
        return n == null ? -1 : n;
    }

    private void giveBack(String[] keys, long minuteInterval, boolean day) {
        redis.call("give a message back", c -> Redis.run(c, GIVE_BACK, ScriptOutputType.INTEGER, keys,
                Long.toString(minuteInterval), day ? "1" : "0"));
    }

    private static String[] keys(String keyId, long day) {
        String slot = "keyrelay:{" + keyId + "}:";
        return new String[] {slot + "minute", slot + "day:" + day};
    }
}
