package io.keyrelay.limits;

/**
 * Message counters that several relay nodes share (Redis, {@code cluster.redis.url}), so a key's rates hold across
 * the cluster rather than per node. When they cannot answer now, {@link MessageLimiter} counts on this node
 * instead: a shared store that is away never refuses mail.
 */
public interface SharedCounters {
    /**
     * Counts one message for {@code keyId} against {@code limits} on UTC day {@code day}, in one round trip at most:
     * a {@link Reservation} (its release gives the counts back where they were taken), a refusal naming the limit,
     * or null when the shared store is unreachable now.
     */
    Admission admit(String keyId, SendingLimits limits, long day);
}
