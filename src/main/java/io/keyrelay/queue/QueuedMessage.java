package io.keyrelay.queue;

import java.time.Instant;
import java.util.List;

/**
 * One message in the queue as the admin surfaces show it: envelope, origin, state, size (stored bytes, keyrelay's
 * Received header included), attempts so far, when the next may start (for an active message: when its lease
 * ends), the last downstream reply, and — when read with {@link QueueService#get} — each recipient and each attempt
 * (empty in listings).
 */
public record QueuedMessage(String id, MessageState state, Envelope envelope, Origin origin, long size, int attempts,
        Instant nextAttempt, String leaseOwner, String lastReply, Instant createdAt, Instant updatedAt,
        List<RecipientStatus> recipients, List<Attempt> attemptLog) {

    public QueuedMessage {
        recipients = List.copyOf(recipients);
        attemptLog = List.copyOf(attemptLog);
    }

    /** A recipient's state and the downstream's last reply for it (null before the first attempt). */
    public record RecipientStatus(String address, RecipientState state, String lastReply, String dsnNotify,
            String dsnOrcpt, Instant updatedAt) {}

    /** One delivery attempt: by which node, when, how many recipients it delivered, failed and deferred. */
    public record Attempt(int number, String node, Instant startedAt, Instant finishedAt, int delivered, int failed,
            int deferred, String summary) {}
}
