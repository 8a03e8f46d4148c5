package io.keyrelay.queue;

import java.time.Instant;
import java.util.List;

/**
 * What one delivery attempt came to: each pending recipient's result and the downstream's reply for it, and, when
 * some were deferred, when to try again. Recorded in one transaction by {@link JdbcQueueStore#settle}.
 */
public record Outcome(List<Result> results, Instant startedAt, Instant finishedAt, Instant nextAttempt, String summary) {
    public Outcome {
        results = List.copyOf(results);
    }

    /** What happened to one recipient in this attempt. */
    public enum Kind { DELIVERED, FAILED, DEFERRED }

    /** One recipient's result: its position in the message, the kind, and the reply (or the error) behind it. */
    public record Result(int seq, String address, Kind kind, String reply) {}

    public long count(Kind k) {
        return results.stream().filter(r -> r.kind() == k).count();
    }
}
