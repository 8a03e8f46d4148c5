package io.keyrelay.queue;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.relay.Downstream;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import javax.sql.DataSource;

/**
 * The queue's parts on one node, built together because they share the wake-up signal: the intake the SMTP path
 * commits to, the admin service, and the delivery workers. Closing it stops the workers (see
 * {@link DeliveryWorkers#close()}).
 */
public final class DurableQueue implements AutoCloseable {
    private final MessageQueue intake;
    private final GroupCommit<JdbcQueueStore.Write, Object> commits;
    private final QueueService service;
    private final DeliveryWorkers workers;

    private DurableQueue(MessageQueue intake, GroupCommit<JdbcQueueStore.Write, Object> commits,
            QueueService service, DeliveryWorkers workers) {
        this.intake = intake;
        this.commits = commits;
        this.service = service;
        this.workers = workers;
    }

    /**
     * Builds the queue on {@code ds} and starts {@code config.workers()} workers delivering to {@code downstream}.
     * {@code node} names this node in the store; {@code grace} bounds the deliveries' finish at shutdown;
     * {@code spoolDir} holds incoming messages larger than one chunk until they are committed; {@code hostname} is
     * the Reporting-MTA of bounces and {@code remoteMta} the downstream's host (null for none) they name.
     */
    public static DurableQueue start(DataSource ds, Downstream downstream, RelayConfig.Queue config, Duration grace,
            Clock clock, String node, MeterRegistry registry, Path spoolDir, String hostname, String remoteMta) {
        JdbcQueueStore store = new JdbcQueueStore(ds);
        WakeSignal wake = new WakeSignal();
        QueueMetrics metrics = new QueueMetrics(registry);
        byte[] r = new byte[4];
        new SecureRandom().nextBytes(r);
        String owner = node + "/" + ProcessHandle.current().pid() + "/" + HexFormat.of().formatHex(r);
        Handoff handoff = new Handoff(config.workers());
        // Two committers: while one waits for its commit to be flushed, the other gathers the next batch. Sessions'
        // new messages and workers' removals of delivered ones share them.
        GroupCommit<JdbcQueueStore.Write, Object> commits = new GroupCommit<>("queue-commit", 2, 64,
                store::writeAll, store::write, metrics::groupCommit);
        DeliveryWorkers workers = new DeliveryWorkers(store, downstream, config, grace, clock, owner, wake, metrics,
                new Bounces(hostname, clock), remoteMta, handoff, commits);
        DurableQueue q = new DurableQueue(new MessageQueue(store, clock, node, wake, metrics, spoolDir, handoff, owner,
                config.lease(), commits), commits,
                new QueueService(store, clock, wake::wake), workers);
        QueueGauges.register(registry, q.service, clock);
        try {
            int back = store.takeBackEarlierClaims(node, owner, clock.instant());
            if (back > 0) {
                org.slf4j.LoggerFactory.getLogger(DurableQueue.class).warn("queue: {} messages claimed by an earlier"
                        + " process of node {} (killed or crashed) are due again now: the downstream may have some of"
                        + " them already", back, node);
            }
        } catch (io.keyrelay.store.StoreException e) { // the store is down at start: their leases run out instead
            org.slf4j.LoggerFactory.getLogger(DurableQueue.class).warn("queue: could not take back earlier claims"
                    + " of node {}: {}", node, io.keyrelay.text.LogText.quote(e.getMessage()));
        }
        workers.start();
        return q;
    }

    public MessageQueue intake() {
        return intake;
    }

    public QueueService service() {
        return service;
    }

    public DeliveryWorkers workers() {
        return workers;
    }

    @Override
    public void close() {
        workers.close();
        commits.close(); // after the SMTP listeners: no session is committing any more
    }
}
