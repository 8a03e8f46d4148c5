package io.keyrelay.queue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * The queue's meters: messages accepted, delivery attempts, recipients by result of each attempt
 * ({@code delivered}, {@code failed}, {@code deferred}), first attempts made straight from the accepting node's copy, and claims taken over after a lease ran out (each a
 * possible duplicate at the downstream).
 */
public final class QueueMetrics {
    private final Counter accepted;
    private final Counter attempts;
    private final Counter leaseExpired;
    private final Counter reports;
    private final Counter direct;
    private final io.micrometer.core.instrument.DistributionSummary groupCommit;
    private final Map<Outcome.Kind, Counter> recipients = new EnumMap<>(Outcome.Kind.class);

    public QueueMetrics(MeterRegistry registry) {
        accepted = Counter.builder("keyrelay.queue.accepted")
                .description("Messages committed to the queue (answered 250 queued as)").register(registry);
        attempts = Counter.builder("keyrelay.queue.attempts")
                .description("Delivery attempts (one downstream transaction per message each)").register(registry);
        leaseExpired = Counter.builder("keyrelay.queue.lease.expired")
                .description("Messages claimed again after a worker's lease ran out without an outcome: each may be"
                        + " delivered twice").register(registry);
        reports = Counter.builder("keyrelay.queue.dsn.sent")
                .description("Delivery status notifications (bounces) queued to senders").register(registry);
        direct = Counter.builder("keyrelay.queue.direct")
                .description("Messages whose first attempt was made by the node that accepted them, from its own copy"
                        + " (no claim, no read of the body back from the store)").register(registry);
        groupCommit = io.micrometer.core.instrument.DistributionSummary.builder("keyrelay.queue.group.commit.writes")
                .description("Writes per group commit: new messages stored and delivered ones removed, in one"
                        + " transaction").register(registry);
        for (Outcome.Kind k : Outcome.Kind.values()) {
            recipients.put(k, Counter.builder("keyrelay.queue.deliveries")
                    .tag("result", k.name().toLowerCase(java.util.Locale.ROOT))
                    .description("Recipients by the result of a delivery attempt").register(registry));
        }
    }

    void accepted() {
        accepted.increment();
    }

    void attempted(Outcome o) {
        attempts.increment();
        for (Outcome.Kind k : Outcome.Kind.values()) {
            recipients.get(k).increment(o.count(k));
        }
    }

    void groupCommit(int writes) {
        groupCommit.record(writes);
    }

    void direct() {
        direct.increment();
    }

    void reported(int n) {
        reports.increment(n);
    }

    void leaseExpired() {
        leaseExpired.increment();
    }
}
