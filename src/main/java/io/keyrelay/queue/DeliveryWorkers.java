package io.keyrelay.queue;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.dkim.Spool;
import java.io.IOException;
import java.io.InputStream;
import io.keyrelay.relay.Downstream;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's delivery workers ({@code queue.workers} virtual threads). Each claims one due message at a time,
 * delivers it ({@link Delivery}) and records the outcome; with nothing due it sleeps until a message is committed
 * on this node ({@link WakeSignal}) or {@code queue.poll_interval} passes (for messages accepted by other nodes and
 * retries coming due).
 *
 * <p>Shutting down: {@link #stopClaiming()} first (no new claims), then {@link #close()} waits for the deliveries
 * under way until {@code smtp.shutdown_grace} after the stop began, interrupts what is left, and gives back the
 * claims that did not finish, so another node (or this one after its restart) delivers them without waiting for the
 * lease to run out.
 */
public final class DeliveryWorkers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeliveryWorkers.class);
    /** How long to wait after a store error before the next claim (the store is likely down or restarting). */
    private static final Duration STORE_BACKOFF = Duration.ofSeconds(1);
    /** Every how many rounds a worker looks in the store before its own node's new messages. */
    private static final int FAIR = 4;

    private final JdbcQueueStore store;
    private final Delivery delivery;
    private final RelayConfig.Queue config;
    private final Duration grace;
    private final Clock clock;
    private final String owner;
    private final WakeSignal wake;
    private final QueueMetrics metrics;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Claim> inFlight = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    private volatile long stopNanos;

    private final Bounces bounces;
    private final String remoteMta;
    private final Handoff handoff;
    /**
     * The last time one of these workers found nothing at all due in the store: the wake count
     * ({@link WakeSignal#storeGeneration()}) read before that look, and when ({@link System#nanoTime()}). Until a
     * later wake or {@code queue.poll_interval} after it, no worker looks again: with the handoff busy, every worker
     * that found it empty for a moment used to ask the store as well (Q on PostgreSQL: 27,927 claim queries for
     * 16,000 messages, every one empty, 53 % of PostgreSQL's statement time).
     */
    private record NoneDue(long storeGeneration, long atNanos) {}

    private volatile NoneDue noneDue;

    /** First attempts that delivered everything are removed in the group commits ({@link GroupCommit}). */
    private final GroupCommit<JdbcQueueStore.Write, Object> writes;

    DeliveryWorkers(JdbcQueueStore store, Downstream downstream, RelayConfig.Queue config, Duration grace,
            Clock clock, String owner, WakeSignal wake, QueueMetrics metrics, Bounces bounces, String remoteMta,
            Handoff handoff, GroupCommit<JdbcQueueStore.Write, Object> writes) {
        this.store = store;
        this.writes = writes;
        this.handoff = handoff;
        this.bounces = bounces;
        this.remoteMta = remoteMta;
        this.delivery = new Delivery(downstream, store, config, clock);
        this.config = config;
        this.grace = grace;
        this.clock = clock;
        this.owner = owner;
        this.wake = wake;
        this.metrics = metrics;
    }

    /** The lease owner these workers claim as: node name, process id and a random part, unique per start. */
    public String owner() {
        return owner;
    }

    DeliveryWorkers start() {
        for (int i = 0; i < config.workers(); i++) {
            threads.add(Thread.ofVirtual().name("queue-worker-" + i).start(this::run));
        }
        return this;
    }

    /** Wakes every idle worker now (a test that moved its clock, many messages made due at once). */
    public void wake() {
        wake.wakeAll();
    }

    /** Wakes one idle worker: a message became due (e.g. another node announced one it committed). */
    public void wakeOne() {
        wake.wake();
    }

    /**
     * One worker: messages handed over by this node's sessions first (they are claimed already), then due messages
     * claimed from the store; every {@value #FAIR}th round the store first, so retries and other nodes' messages are
     * not kept waiting behind a steady stream of new ones.
     */
    private void run() {
        long round = 0;
        while (!stopping) {
            long seen = wake.generation();
            boolean storeFirst = ++round % FAIR == 0;
            Handoff.Item item = storeFirst ? null : handoff.poll();
            if (item != null) {
                deliver(item);
                continue;
            }
            Optional<Claim> claim;
            try {
                claim = storeMayHaveDue() ? claimFromStore() : Optional.empty();
            } catch (StoreException e) {
                log.warn("queue: cannot claim messages: {}", LogText.quote(e.getMessage()));
                pause(seen, STORE_BACKOFF);
                continue;
            }
            if (claim.isPresent()) {
                deliver(claim.get(), null);
                continue;
            }
            item = storeFirst ? handoff.poll() : null;
            if (item != null) {
                deliver(item);
                continue;
            }
            pause(seen, config.pollInterval());
        }
    }

    /**
     * False while the last look found nothing due and neither a wake that could concern the store nor
     * {@code queue.poll_interval} has come since: retries coming due, leases running out and other nodes' messages
     * without a notice are found by the poll, as before, and everything else wakes the workers.
     */
    private boolean storeMayHaveDue() {
        NoneDue last = noneDue;
        return last == null || last.storeGeneration() != wake.storeGeneration()
                || System.nanoTime() - last.atNanos() >= config.pollInterval().toNanos();
    }

    private Optional<Claim> claimFromStore() {
        long generation = wake.storeGeneration();
        long at = System.nanoTime();
        return store.claim(owner, clock.instant(), config.lease(), () -> noneDue = new NoneDue(generation, at));
    }

    private void deliver(Handoff.Item item) {
        metrics.direct();
        try (Spool body = item.body()) {
            deliver(item.claim(), new Delivery.Body() {
                @Override
                public byte[] prefix() {
                    return item.prefix();
                }

                @Override
                public InputStream open() throws IOException {
                    return body.open();
                }
            });
        } catch (IOException e) { // closing the spool: its memory or file is released all the same
            log.warn("queue: id={} spool not closed cleanly: {}", item.claim().id(), LogText.quote(e.getMessage()));
        }
    }

    private void pause(long seen, Duration d) {
        try {
            wake.awaitAfter(seen, d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    /** Delivers {@code claim}, from {@code body} when this node holds a copy of it, else from the store. */
    private void deliver(Claim claim, Delivery.Body body) {
        inFlight.put(claim.id(), claim);
        try {
            if (claim.afterLostLease()) {
                metrics.leaseExpired();
                log.warn("queue: id={} claimed again after a lease ran out without an outcome (attempt {}): the"
                        + " downstream may receive it twice", claim.id(), claim.attempt());
            }
            Outcome outcome = body == null ? delivery.attempt(claim) : delivery.attempt(claim, body);
            if (Thread.interrupted() && stopping) {
                // Cut off at the end of the shutdown grace: what the downstream said (if anything) is unknown, so
                // the message goes back, due now, rather than deferred on the strength of an interrupted read.
                giveBack(claim);
                return;
            }
            metrics.attempted(outcome);
            List<Bounces.NewMessage> reports = new java.util.ArrayList<>(reports(claim, outcome, Bounces.Kind.FAILED));
            boolean warn = delayWarningDue(claim, outcome);
            if (warn) {
                reports.addAll(reports(claim, outcome, Bounces.Kind.DELAYED));
            }
            boolean recorded;
            try {
                recorded = JdbcQueueStore.allDelivered(claim, outcome, reports)
                        ? (Boolean) writes.write(new JdbcQueueStore.Done(claim.id(), owner))
                        : store.settle(claim, owner, outcome, reports, warn);
            } catch (StoreException | IOException e) {
                // The lease runs out and the message is tried again: possibly a duplicate, never a loss.
                log.error("queue: id={} cannot record the outcome ({}): {}", claim.id(), LogText.quote(outcome.summary()),
                        LogText.quote(e.getMessage()));
                return;
            }
            logAttempt(claim, outcome, recorded);
            if (recorded && !reports.isEmpty()) {
                metrics.reported(reports.size());
                reports.forEach(r -> log.info("queue: id={} bounce queued as {} to <{}>", claim.id(), r.id(),
                        claim.envelope().sender()));
                wake.wake();
            }
        } finally {
            inFlight.remove(claim.id());
        }
    }

    /** True when {@code queue.delay_warning} is on, has passed for this message, and its sender has had none. */
    private boolean delayWarningDue(Claim claim, Outcome outcome) {
        return !config.delayWarning().isZero() && !claim.delayWarned()
                && outcome.count(Outcome.Kind.DEFERRED) > 0
                && !outcome.finishedAt().isBefore(claim.createdAt().plus(config.delayWarning()));
    }

    /**
     * The report of {@code kind} this attempt owes (failed — or, for a warning, deferred — recipients whose NOTIFY
     * asks for it), built before the outcome is recorded so both go into the store together. A report that cannot
     * be built is logged and skipped: the outcome is still recorded, the message is not held back for its report.
     */
    private List<Bounces.NewMessage> reports(Claim claim, Outcome outcome, Bounces.Kind kind) {
        List<Outcome.Result> owed = Bounces.owed(claim, outcome, kind);
        if (owed.isEmpty()) {
            return List.of();
        }
        try (java.io.InputStream original = store.body(claim.id(), claim.size())) {
            return List.of(bounces.report(claim, outcome, kind, owed, original, remoteMta));
        } catch (java.io.IOException | RuntimeException e) {
            log.error("queue: id={} cannot build its bounce: {}", claim.id(), LogText.quote(String.valueOf(e.getMessage())));
            return List.of();
        }
    }

    private void logAttempt(Claim claim, Outcome o, boolean recorded) {
        long deferred = o.count(Outcome.Kind.DEFERRED);
        log.info("queue: id={} attempt={} rcpts={} delivered={} failed={} deferred={} next={} downstream={}{}",
                claim.id(), claim.attempt(), claim.recipients().size(), o.count(Outcome.Kind.DELIVERED),
                o.count(Outcome.Kind.FAILED), deferred, deferred > 0 ? o.nextAttempt() : "-",
                LogText.quote(o.summary()), recorded ? "" : " (not recorded: the claim was lost or the message deleted)");
    }

    /** Stops taking new messages; deliveries under way go on. The shutdown grace starts now. */
    public void stopClaiming() {
        for (Handoff.Item left : handoff.close()) {
            giveBack(left.claim());
            try {
                left.body().close();
            } catch (IOException e) {
                log.warn("queue: id={} spool not closed cleanly: {}", left.claim().id(), LogText.quote(e.getMessage()));
            }
        }
        if (!stopping) {
            stopNanos = System.nanoTime();
            stopping = true;
        }
        wake.wakeAll();
    }

    @Override
    public void close() {
        stopClaiming();
        long deadline = stopNanos + grace.toNanos();
        for (Thread t : threads) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.join(Duration.ofNanos(left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        inFlight.values().forEach(this::giveBack);
    }

    private void giveBack(Claim c) {
        try {
            if (store.unclaim(c.id(), owner, clock.instant())) {
                log.info("queue: id={} given back unfinished at shutdown", c.id());
            }
        } catch (StoreException e) {
            log.warn("queue: id={} could not be given back ({}); it is delivered when its lease runs out",
                    c.id(), LogText.quote(e.getMessage()));
        }
    }
}
