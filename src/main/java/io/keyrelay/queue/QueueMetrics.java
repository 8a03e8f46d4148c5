package io.keyrelay.queue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * The queue's meters: messages accepted, delivery attempts, recipients by result of each attempt
 * ({@code delivered}, {@code failed}, {@code deferred}), and claims taken over after a lease ran out (each a
 * possible duplicate at the downstream).
 */
public final class QueueMetrics {
    private final Counter accepted;
    private final Counter attempts;
    private final Counter leaseExpired;
    private final Counter reports;
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

    void reported(int n) {
        reports.increment(n);
    }

    void leaseExpired() {
        leaseExpired.increment();
    }
}
