package io.keyrelay.queue;

import io.keyrelay.store.StoreException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue's depth by state ({@code keyrelay_queue_messages{state=…}}) and the age of its oldest message still
 * waiting for delivery ({@code keyrelay_queue_oldest_pending_seconds}), read from the store — the queue is shared,
 * so every node reports the whole queue. One read serves every gauge of a scrape (at most one per second); while
 * the store cannot be read the gauges are NaN rather than a stale or invented number.
 */
final class QueueGauges {
    private static final Duration FRESH = Duration.ofSeconds(1);

    private record Snapshot(long takenNanos, Map<MessageState, Long> counts, Optional<Instant> oldest) {}

    private final QueueService service;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private Snapshot last;

    private QueueGauges(QueueService service, Clock clock) {
        this.service = service;
        this.clock = clock;
    }

    static void register(MeterRegistry registry, QueueService service, Clock clock) {
        QueueGauges g = new QueueGauges(service, clock);
        for (MessageState s : MessageState.values()) {
            // strongReference: Micrometer holds a gauge's object weakly, and nothing else holds this one.
            Gauge.builder("keyrelay.queue.messages", g, x -> x.count(s)).tag("state", s.wireName()).strongReference(true)
                    .description("Messages in the queue (shared by every node) by state").register(registry);
        }
        Gauge.builder("keyrelay.queue.oldest.pending", g, QueueGauges::oldestAge).baseUnit("seconds").strongReference(true)
                .description("Age of the oldest message still to be delivered (queued, active or deferred); 0 when"
                        + " there is none").register(registry);
    }

    private double count(MessageState s) {
        Snapshot x = snapshot();
        return x.counts() == null ? Double.NaN : x.counts().get(s);
    }

    private double oldestAge() {
        Snapshot x = snapshot();
        if (x.counts() == null) {
            return Double.NaN;
        }
        return x.oldest().map(t -> Math.max(0, Duration.between(t, clock.instant()).toMillis() / 1000.0)).orElse(0.0);
    }

    private Snapshot snapshot() {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (last == null || now - last.takenNanos() > FRESH.toNanos()) {
                try {
                    last = new Snapshot(now, service.counts(), service.oldestPending());
                } catch (StoreException e) {
                    last = new Snapshot(now, null, null); // unknown; asked again after FRESH, not per gauge
                }
            }
            return last;
        } finally {
            lock.unlock();
        }
    }
}
