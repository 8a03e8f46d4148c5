package io.keyrelay.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyLimits;
import java.time.Clock;
import java.time.Instant;

/**
 * The per-key message counters of this node: each key's messages counted against its per-minute rate and per-day
 * quota, in memory.
 *
 * <p>A message is counted when it is admitted at MAIL FROM, so that concurrent sessions of one key cannot all pass
 * a check before any of them counts; the {@link Reservation} is given back if the transaction ends without the
 * downstream accepting the message. The hot path is a cache hit and one or two compare-and-sets: no lock, no
 * database round trip, and nothing at all for keys without a rate limit.
 *
 * <p>Without {@link SharedCounters} counters are per node: with several relays behind a load balancer a key can send
 * up to its limit on each. With them (Redis, {@code cluster.redis.url}) a limited key's message costs one round trip
 * to the shared store and the limit holds across the cluster; while the store is unreachable each node counts on
 * its own again. At most {@code maxKeys} keys' counters are held (about 100 bytes each); past that the least useful are
 * dropped. The cache is bounded by size only: expiring idle entries would make every read record its access, which
 * measured ten times the cost of the rest of the lookup.
 */
public final class MessageLimiter {
    private final RelayConfig.Limits defaults;
    private final RelayConfig.Smtp smtp;
    private final Clock clock;
    private final Cache<String, KeyCounters> counters;
    private final SharedCounters shared;

    /** {@code maxKeys} bounds how many keys' counters are held (the key cache's size is a natural choice). */
    public MessageLimiter(RelayConfig.Limits defaults, RelayConfig.Smtp smtp, Clock clock, long maxKeys) {
        this(defaults, smtp, clock, maxKeys, null);
    }

    /** Counting in {@code shared} first (null: this node only), on this node while it cannot answer. */
    public MessageLimiter(RelayConfig.Limits defaults, RelayConfig.Smtp smtp, Clock clock, long maxKeys,
            SharedCounters shared) {
        this.defaults = defaults;
        this.smtp = smtp;
        this.clock = clock;
        this.counters = Caffeine.newBuilder().maximumSize(maxKeys).build();
        this.shared = shared;
    }

    /** The limits that apply to this key now. */
    public SendingLimits limitsFor(ApiKey key) {
        return SendingLimits.of(key.limits(), defaults, smtp);
    }

    /** Counts one message for {@code keyId}, or refuses it naming the limit it would break. */
    public Admission admit(String keyId, SendingLimits limits) {
        if (limits.unmetered()) {
            return Reservation.UNMETERED;
        }
        Instant now = clock.instant();
        if (shared != null) {
            Admission a = shared.admit(keyId, limits, Math.floorDiv(now.getEpochSecond(), 86_400L));
            if (a != null) {
                return a;
            }
        }
        KeyCounters c = counters.get(keyId, id -> new KeyCounters());
        long day = -1;
        if (limits.messagesPerDay() > 0) {
            day = Math.floorDiv(now.getEpochSecond(), 86_400L);
            if (!c.takeDay(day, limits.messagesPerDay())) {
                return new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_DAY, limits.messagesPerDay());
            }
        }
        long interval = 0;
        if (limits.messagesPerMinute() > 0) {
            interval = c.takeMinute(now.getEpochSecond() * 1_000_000_000L + now.getNano(), limits.messagesPerMinute());
            if (interval == 0) {
                if (day >= 0) {
                    c.giveBackDay(day);
                }
                return new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_MINUTE, limits.messagesPerMinute());
            }
        }
        return new Reservation(c, interval, day);
    }

    /**
     * Messages counted for {@code keyId} on the current UTC day on this node (0 if none, or if the key has no daily
     * quota); with shared counters, only those counted here while the shared store was away.
     */
    public long countedToday(String keyId) {
        KeyCounters c = counters.getIfPresent(keyId);
        return c == null ? 0 : c.countOn(Math.floorDiv(clock.instant().getEpochSecond(), 86_400L));
    }
}
