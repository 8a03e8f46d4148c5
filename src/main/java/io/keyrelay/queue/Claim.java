package io.keyrelay.queue;

import java.time.Instant;
import java.util.List;

/**
 * A message a worker has claimed: it may deliver it until {@code leaseUntil}. {@code recipients} are the pending
 * ones, each with its position in the message. {@code attempt} is this attempt's number (1 for the first).
 * {@code afterLostLease} is true when the previous claim ran out without an outcome (its node died or stalled
 * mid-delivery), so the downstream may already have some of it: this delivery may be a duplicate.
 * {@code delayWarned} is true once the sender has had its delay warning.
 */
public record Claim(String id, Envelope envelope, Origin origin, List<Pending> recipients, int attempt,
        Instant createdAt, Instant leaseUntil, long size, boolean afterLostLease, boolean delayWarned) {

    public Claim {
        recipients = List.copyOf(recipients);
    }

    /** A pending recipient and its position ({@code seq}) among the message's recipients. */
    public record Pending(int seq, Envelope.Recipient recipient) {}
}
