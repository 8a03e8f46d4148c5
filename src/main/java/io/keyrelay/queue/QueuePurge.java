package io.keyrelay.queue;

import io.keyrelay.config.Durations;
import io.keyrelay.keys.Actor;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import io.keyrelay.text.Times;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes failed messages whose last change ({@code updated_at}) is older than {@code queue.failed_retention}: their
 * senders were bounced when they failed, and they were kept only for an operator to inspect or retry. One pass soon
 * after start, then one every {@link #PERIOD}; {@code Duration.ZERO} keeps them forever (no pass runs).
 *
 * <p>Safe on every node at once: each batch locks its messages with {@code FOR UPDATE SKIP LOCKED}, so two nodes
 * never take the same message, and each message is deleted and audited ({@code queue.purged}, actor
 * {@code system}) exactly once, in the same transaction. A message retried by an operator meanwhile is no longer
 * failed and is left alone. Counted in {@code keyrelay_queue_purged_total}.
 */
public final class QueuePurge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueuePurge.class);
    /** The audit action of a purged message. */
    public static final String PURGED = "queue.purged";
    /** How often a node looks for failed messages past their retention. */
    static final Duration PERIOD = Duration.ofHours(1);
    /** The first pass waits this long after start, so as not to add to a node's start-up. */
    static final Duration FIRST = Duration.ofMinutes(1);
    /** Messages deleted per transaction: bounds a transaction's locks and the work lost to a failure. */
    static final int BATCH = 200;

    private final DataSource ds;
    private final Duration retention;
    private final Clock clock;
    private final Counter purged;
    private Thread thread;

    public QueuePurge(DataSource ds, Duration retention, Clock clock, MeterRegistry registry) {
        this.ds = ds;
        this.retention = retention;
        this.clock = clock;
        this.purged = Counter.builder("keyrelay.queue.purged")
                .description("Failed messages deleted after queue.failed_retention").register(registry);
    }

    /** Starts the periodic pass on a virtual thread (none when the retention is 0, forever). */
    public QueuePurge start() {
        if (!retention.isZero()) {
            thread = Thread.ofVirtual().name("queue-purge").start(this::run);
        }
        return this;
    }

    private void run() {
        try {
            Thread.sleep(FIRST);
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    purgeOnce();
                } catch (StoreException e) {
                    log.warn("queue: cannot purge failed messages (tried again in {}): {}", Durations.format(PERIOD),
                            LogText.quote(e.getMessage()));
                }
                Thread.sleep(PERIOD);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing
        }
    }

    /**
     * One pass: deletes, batch by batch, every failed message last changed before {@code now - retention}. Returns
     * how many this node deleted (others running at the same time take the rest).
     */
    public int purgeOnce() {
        if (retention.isZero()) {
            return 0;
        }
        Instant now = clock.instant();
        Instant cutoff = now.minus(retention);
        int total = 0;
        int n;
        do {
            n = batch(cutoff, now);
            total += n;
        } while (n == BATCH);
        if (total > 0) {
            log.info("queue: purged {} failed messages last changed before {} (queue.failed_retention {})", total,
                    Times.iso(cutoff), Durations.format(retention));
        }
        return total;
    }

    private record Due(String id, String keyId, String shortKey, Instant updatedAt) {}

    private int batch(Instant cutoff, Instant now) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<Due> due = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id, key_id, short_key, updated_at"
                        + " FROM queue_messages WHERE state = 'failed' AND updated_at < ?"
                        + " ORDER BY id FETCH FIRST " + BATCH + " ROWS ONLY FOR UPDATE SKIP LOCKED")) {
                    JdbcQueueStore.setTime(ps, 1, cutoff);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            due.add(new Due(rs.getString(1), rs.getString(2), rs.getString(3),
                                    JdbcQueueStore.time(rs, 4)));
                        }
                    }
                }
                for (Due d : due) {
                    JdbcQueueStore.delete(c, d.id());
                    QueueService.audit(c, now, Actor.SYSTEM, PURGED, d.keyId(), d.shortKey(), "message " + d.id()
                            + " (failed, last changed " + Times.iso(d.updatedAt()) + "; queue.failed_retention "
                            + Durations.format(retention) + ")");
                }
                c.commit();
                purged.increment(due.size());
                return due.size();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("purging failed messages", e);
        }
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
