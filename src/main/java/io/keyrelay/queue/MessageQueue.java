package io.keyrelay.queue;

import java.io.IOException;
import java.io.InputStream;
import io.keyrelay.dkim.Spool;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Where the SMTP path hands a message over in queue mode: a queue id for the transaction (it goes into keyrelay's
 * Received header before the body is read), then {@link #accept}, which commits envelope, origin and body together
 * and wakes this node's delivery workers. Only after {@code accept} returns may the client hear 250.
 *
 * <p>The message is first read to its end into a {@link Spool} (memory up to one chunk, then a {@code 0600} file in
 * {@code data_dir/spool}), and only then written to the store: a client that uploads slowly holds no database
 * connection while it does, so slow or hostile clients cannot take the pool from AUTH and the workers, and the
 * store's transaction lasts as long as the local copy takes, not as long as the client.
 */
public final class MessageQueue {
    private final JdbcQueueStore store;
    private final QueueId ids;
    private final Clock clock;
    private final String node;
    private final WakeSignal wake;
    private final QueueMetrics metrics;

    private final Path spoolDir;

    MessageQueue(JdbcQueueStore store, Clock clock, String node, WakeSignal wake, QueueMetrics metrics,
            Path spoolDir) {
        this.store = store;
        this.spoolDir = spoolDir;
        this.ids = new QueueId(clock);
        this.clock = clock;
        this.node = node;
        this.wake = wake;
        this.metrics = metrics;
    }

    /** A new queue id (UUIDv7). */
    public String newId() {
        return ids.next();
    }

    /** The name of this node, as recorded with each message it accepts. */
    public String node() {
        return node;
    }

    /**
     * Commits the message with id {@code id} (from {@link #newId}) and returns its stored size. {@code body} is
     * keyrelay's Received header followed by the client's content. Throws — and leaves nothing behind — if the
     * client's stream fails ({@link IOException}) or the store cannot commit
     * ({@link io.keyrelay.store.StoreException}).
     */
    public long accept(String id, Envelope envelope, Origin origin, InputStream body) throws IOException {
        long size;
        try (Spool spool = new Spool(spoolDir, JdbcQueueStore.CHUNK)) {
            body.transferTo(spool);
            try (InputStream copy = spool.open()) {
                size = store.insert(id, envelope, origin, clock.instant(), copy);
            } catch (io.keyrelay.store.StoreException e) {
                // The store may have committed it and lost the connection before saying so: ask before the 451.
                size = CommitCheck.committedAnyway(store.dataSource(), id, e).orElseThrow(() -> e);
            }
        }
        metrics.accepted();
        wake.wake();
        return size;
    }
}
