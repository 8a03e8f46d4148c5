package io.keyrelay.keys;

import io.keyrelay.text.LogText;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail's background writer for events of the SMTP path (failed AUTHs): a bounded queue drained by one
 * thread into batched inserts.
 *
 * <p>A brute-force flood therefore costs a fixed amount of memory and at most one insert transaction at a time,
 * however fast failures arrive: {@link #offer} never blocks, and an event that finds the queue full is dropped,
 * counted ({@link #dropped()}, {@code keyrelay_audit_events_dropped_total}) and reported in the log at most once a
 * minute. While the store is unreachable the writer keeps its batch and retries every few seconds; the queue
 * absorbs what it can meanwhile. Key changes are not written here: they go into the audit trail in the same
 * transaction as the change itself ({@link KeyService}).
 */
public final class AuditQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditQueue.class);
    static final int BATCH = 500;
    private static final Duration RETRY = Duration.ofSeconds(5);
    private final Duration retry;
    private static final long REPORT_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    /** Put on the queue by {@link #close()} to wake the writer at once; never written. */
    private static final AuditEvent WAKE_UP = new AuditEvent(null, null, null, null, null, null, null, null);

    private final KeyStore store;
    private final Clock clock;
    private final BlockingQueue<AuditEvent> queue;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final Thread writer;
    private long droppedReported;
    private long lastReportNanos;
    private boolean failing;

    public AuditQueue(KeyStore store, int capacity, Clock clock) {
        this(store, capacity, clock, RETRY);
    }

    /** With a chosen pause between attempts to write to an unreachable store (tests). */
    AuditQueue(KeyStore store, int capacity, Clock clock, Duration retry) {
        this.retry = retry;
        this.store = store;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = Thread.ofVirtual().name("keyrelay-audit").unstarted(this::run);
        this.lastReportNanos = System.nanoTime() - REPORT_EVERY_NANOS;
    }

    public AuditQueue start() {
        writer.start();
        return this;
    }

    /** Queues an event without waiting; false (and counted as dropped) when the queue is full or closed. */
    public boolean offer(AuditEvent event) {
        if (stopping.getCount() == 0 || !queue.offer(event)) {
            dropped.increment();
            return false;
        }
        return true;
    }

    /**
     * Queues a failed authentication: who tried ({@code surface}, e.g. {@code smtp}), why it failed, from where,
     * and the key's id and short key when the key exists. {@code username} must already be safe to store (printable,
     * short, no key in it); the presented secret is never passed here.
     */
    public boolean authFailed(String surface, String reason, ApiKey key, String username, InetAddress client) {
        return offer(new AuditEvent(null, clock.instant(), surface, AuditEvent.AUTH_FAILED,
                key == null ? null : key.id(), key == null ? null : key.shortKey(), client.getHostAddress(),
                "reason=" + reason + (username == null ? "" : " username=\"" + username + "\"")));
    }

    /** Events dropped because the queue was full (or closed), since start. */
    public long dropped() {
        return dropped.sum();
    }

    /** Events written to the store, since start. */
    public long written() {
        return written.sum();
    }

    /** Events waiting to be written. */
    public int depth() {
        return queue.size();
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(BATCH);
        while (true) {
            boolean closing = stopping.getCount() == 0;
            if (batch.isEmpty()) {
                if (closing && queue.isEmpty()) {
                    break;
                }
                try {
                    AuditEvent first = queue.poll(1, TimeUnit.SECONDS);
                    if (first != null) {
                        batch.add(first);
                        queue.drainTo(batch, BATCH - 1);
                        batch.removeIf(e -> e == WAKE_UP);
                    }
                } catch (InterruptedException e) {
                    stopping.countDown();
                }
            }
            if (!batch.isEmpty() && !write(batch) && !backOff()) {
                break; // closing while the store is unreachable: what is left is reported below
            }
            reportDrops(false);
        }
        long lost = batch.size() + queue.stream().filter(e -> e != WAKE_UP).count();
        if (lost > 0) {
            log.warn("audit: {} failed-AUTH events not written at shutdown (key store unreachable)", lost);
        }
        reportDrops(true);
    }

    /** Writes and clears the batch; false (batch kept) if the store refused. */
    private boolean write(List<AuditEvent> batch) {
        try {
            store.appendAudit(batch);
        } catch (RuntimeException e) {
            if (!failing) {
                log.warn("audit: cannot write {} events to the key store (will retry; newer events queue up to the"
                        + " limit, then are dropped): {}", batch.size(), LogText.quote(e.getMessage()));
                failing = true;
            }
            return false;
        }
        if (failing) {
            log.info("audit: key store reachable again; writing audit events resumed");
            failing = false;
        }
        written.add(batch.size());
        batch.clear();
        return true;
    }

    /** Waits before retrying a failed write; false if closing (then one last attempt has been made already). */
    private boolean backOff() {
        if (stopping.getCount() == 0) {
            return false;
        }
        try {
            stopping.await(retry.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            stopping.countDown();
        }
        return true;
    }

    /** Logs how many events were dropped since the last report, at most once a minute (or now, at shutdown). */
    private void reportDrops(boolean now) {
        long total = dropped.sum();
        long nanos = System.nanoTime();
        if (total == droppedReported || (!now && nanos - lastReportNanos < REPORT_EVERY_NANOS)) {
            return;
        }
        log.warn("audit: queue full ({} events): {} failed-AUTH events dropped since the last report, {} in all"
                + " (keyrelay_audit_events_dropped_total)",
                queue.remainingCapacity() + queue.size(), total - droppedReported, total);
        droppedReported = total;
        lastReportNanos = nanos;
    }

    /** Stops taking events, writes what is queued (waiting a few seconds at most), and stops the writer. */
    @Override
    public void close() {
        stopping.countDown();
        queue.offer(WAKE_UP); // when the queue is full the writer is busy anyway
        try {
            if (!writer.join(CLOSE_WAIT)) {
                writer.interrupt();
                writer.join(CLOSE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
