package io.keyrelay.queue;

import io.keyrelay.dkim.Spool;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the SMTP path hands a message over in queue mode: a queue id for the transaction (it goes into keyrelay's
 * Received header before the body is read), then {@link #accept}, which commits envelope, origin and body together
 * and wakes this node's delivery workers. Only after {@code accept} returns may the client hear 250.
 *
 * <p>A message of at most one chunk (256 KiB, most mail) is committed in a {@link GroupCommit} with the other
 * sessions' messages that are waiting at that moment: one transaction and one flush for all of them, each session
 * answered once the commit that holds its own message has returned. Larger ones stream into their own transaction.
 *
 * <p>The message is first read to its end into a {@link Spool} (memory up to one chunk, then a {@code 0600} file in
 * {@code data_dir/spool}), and only then written to the store: a client that uploads slowly holds no database
 * connection while it does, so slow or hostile clients cannot take the pool from AUTH and the workers, and the
 * store's transaction lasts as long as the local copy takes, not as long as the client.
 */
public final class MessageQueue {
    private static final Logger log = LoggerFactory.getLogger(MessageQueue.class);

    private final JdbcQueueStore store;
    private final QueueId ids;
    private final Clock clock;
    private final String node;
    private final WakeSignal wake;
    private final QueueMetrics metrics;
    private final Path spoolDir;
    private final Handoff handoff;
    private final String owner;
    private final Duration lease;
    private final GroupCommit<JdbcQueueStore.Write, Object> commits;

    MessageQueue(JdbcQueueStore store, Clock clock, String node, WakeSignal wake, QueueMetrics metrics,
            Path spoolDir, Handoff handoff, String owner, Duration lease,
            GroupCommit<JdbcQueueStore.Write, Object> commits) {
        this.store = store;
        this.commits = commits;
        this.spoolDir = spoolDir;
        this.ids = new QueueId(clock);
        this.clock = clock;
        this.node = node;
        this.wake = wake;
        this.metrics = metrics;
        this.handoff = handoff;
        this.owner = owner;
        this.lease = lease;
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
     * Commits the message with id {@code id} (from {@link #newId}) and returns its stored size: {@code prefix}
     * (keyrelay's Received header) followed by the client's content read from {@code body}. Throws — and leaves
     * nothing behind — if the client's stream fails ({@link IOException}) or the store cannot commit
     * ({@link io.keyrelay.store.StoreException}).
     */
    public long accept(String id, Envelope envelope, Origin origin, byte[] prefix, InputStream body)
            throws IOException {
        Spool spool = new Spool(spoolDir, JdbcQueueStore.CHUNK);
        try {
            body.transferTo(spool);
        } catch (IOException | RuntimeException e) {
            spool.close();
            throw e;
        }
        return accept(id, envelope, origin, prefix, spool);
    }

    /**
     * {@link #accept(String, Envelope, Origin, byte[], InputStream)} for content already held in {@code spool},
     * which this call takes over (and closes, or passes on to the worker that delivers the message).
     *
     * <p>When one of this node's workers has a free slot ({@link Handoff}), the message is stored already claimed
     * by this node and handed to it with the spool: its first attempt starts without a claim query and reads the
     * body from the local copy, not back from the store. The store still has everything first: the commit is the
     * same, and a node that dies before delivering loses the claim when its lease runs out, as ever.
     */
    public long accept(String id, Envelope envelope, Origin origin, byte[] prefix, Spool spool) throws IOException {
        boolean direct = handoff.reserve();
        boolean handed = false;
        try {
            Instant now = clock.instant();
            JdbcQueueStore.Lease claim = direct ? new JdbcQueueStore.Lease(owner, now.plus(lease)) : null;
            long size;
            try {
                size = commit(id, envelope, origin, now, prefix, spool, claim);
            } catch (StoreException e) {
                // The store may have committed it and lost the connection before saying so: ask before the 451.
                size = CommitCheck.committedAnyway(store.dataSource(), id, e).orElseThrow(() -> e);
            }
            metrics.accepted();
            if (direct) {
                List<Claim.Pending> pending = new ArrayList<>(envelope.recipients().size());
                for (Envelope.Recipient r : envelope.recipients()) {
                    pending.add(new Claim.Pending(pending.size(), r));
                }
                handed = handoff.put(new Handoff.Item(new Claim(id, envelope, origin, pending, 1, now, claim.until(),
                        size, false, false), prefix, spool));
                if (!handed) {
                    giveBack(id); // shutting down: no worker of this node will take it
                }
            }
            if (handed) {
                wake.wakeForHandoff(); // an idle worker takes it from the handoff: nothing to look for in the store
            } else {
                wake.wake();
            }
            return size;
        } finally {
            if (direct && !handed) {
                handoff.unreserve();
            }
            if (!handed) {
                spool.close();
            }
        }
    }

    /** Writes the message: in a group commit when it fits one chunk, else streamed in a transaction of its own. */
    private long commit(String id, Envelope envelope, Origin origin, Instant now, byte[] prefix, Spool spool,
            JdbcQueueStore.Lease claim) throws IOException {
        if (!spool.onDisk() && prefix.length + spool.size() <= JdbcQueueStore.CHUNK) {
            // Small (most mail): committed together with the other sessions' messages waiting at this moment.
            byte[] bytes = new byte[(int) (prefix.length + spool.size())];
            System.arraycopy(prefix, 0, bytes, 0, prefix.length);
            try (InputStream in = spool.open()) {
                in.readNBytes(bytes, prefix.length, (int) spool.size());
            }
            return (Long) commits.write(new JdbcQueueStore.Incoming(id, envelope, origin, now, bytes, claim));
        }
        try (InputStream copy = new SequenceInputStream(new ByteArrayInputStream(prefix), spool.open())) {
            return store.insert(id, envelope, origin, now, copy, prefix.length + spool.size(), claim);
        }
    }

    private void giveBack(String id) {
        try {
            store.unclaim(id, owner, clock.instant());
        } catch (StoreException e) {
            // Stored and claimed by this node: delivered by any node once the lease runs out.
            log.warn("queue: id={} stays claimed until its lease runs out: {}", id, LogText.quote(e.getMessage()));
        }
    }
}
