package io.keyrelay.smtp;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Where the {@link AuthThrottle} keeps its counts: for each address bucket, the distinct wrong secrets it presented
 * lately (by fingerprint) and its ban. {@link InMemoryAuthFailures} keeps them on this node; a shared store (Redis)
 * makes them hold across nodes.
 *
 * <p>The semantics are those of a set per bucket, scored by when each fingerprint was last presented, so a Redis
 * implementation is a handful of commands: {@link #recordFailure} is {@code ZADD f:<bucket> <now> <fingerprint>},
 * {@code ZREMRANGEBYSCORE f:<bucket> -inf <now - window>}, {@code ZCARD}, {@code PEXPIRE f:<bucket> <window>};
 * {@link #ban} is {@code SET b:<bucket> <until> PXAT <until>} and {@code DEL f:<bucket>}; {@link #bannedUntil} is
 * {@code GET b:<bucket>}.
 */
public interface AuthFailureStore {

    /**
     * Records that {@code bucket} presented the wrong secret {@code fingerprint} at {@code now}, and answers how many
     * distinct fingerprints it has presented within {@code window} before {@code now} (strictly: one presented
     * exactly {@code window} ago no longer counts), this one included. The same fingerprint again only refreshes its
     * time: a client retrying one stale key counts one, however often it retries. A shared store answers -1, and
     * records nothing, when it finds {@code bucket} banned already (by another node, whose ban this one may not have
     * heard of yet).
     */
    int recordFailure(String bucket, String fingerprint, Instant now, Duration window);

    /** Refuses {@code bucket} until {@code until}, and forgets the fingerprints it was counted by. */
    void ban(String bucket, Instant until);

    /** When the ban on {@code bucket} ends, if it is banned at {@code now}. */
    Optional<Instant> bannedUntil(String bucket, Instant now);

    /** How many buckets are remembered now (for tests and bounds; a shared store may estimate). */
    long trackedBuckets();
}
