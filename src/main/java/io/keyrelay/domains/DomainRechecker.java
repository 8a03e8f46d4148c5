package io.keyrelay.domains;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background re-check ({@code sending_domains.recheck}): every domain whose records were last looked up longer
 * ago than that (or never) is checked again, on a timer that wakes at a fraction of the interval so a restart
 * delays no check by more than that. What an answer says is saved; no answer keeps every status
 * ({@link DomainVerifier}).
 */
public final class DomainRechecker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DomainRechecker.class);
    private static final Duration MAX_TICK = Duration.ofMinutes(10);

    private final DomainService domains;
    private final Duration interval;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("domain-recheck").factory());

    public DomainRechecker(DomainService domains, Duration interval) {
        this.domains = domains;
        this.interval = interval;
    }

    /** Starts the timer; returns this. */
    public DomainRechecker start() {
        long tick = Math.max(1, Math.min(interval.toMillis() / 4, MAX_TICK.toMillis()));
        timer.scheduleWithFixedDelay(this::runQuietly, tick, tick, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Re-checks every domain that is due now; returns how many were checked. */
    public int recheckDue() {
        Instant due = domains.clock().instant().minus(interval);
        int n = 0;
        for (SendingDomain d : domains.list()) {
            if (d.keys().isEmpty()) {
                continue;
            }
            Instant last = d.keys().stream().map(k -> k.lastCheckedAt() == null ? Instant.EPOCH : k.lastCheckedAt())
                    .min(Instant::compareTo).orElse(Instant.EPOCH);
            if (!last.isAfter(due)) {
                try {
                    domains.recheck(d);
                    n++;
                } catch (DomainException e) {
                    // deleted while we looked: nothing to re-check
                }
            }
        }
        return n;
    }

    private void runQuietly() {
        try {
            recheckDue();
        } catch (RuntimeException e) {
            log.warn("sending domain re-check failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
