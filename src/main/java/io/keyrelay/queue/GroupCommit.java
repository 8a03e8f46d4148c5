package io.keyrelay.queue;

import io.keyrelay.store.StoreException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit: what concurrent callers bring is written in shared transactions, one commit (one WAL flush on
 * PostgreSQL, one chunk written on H2) for as many items as were waiting, and each caller returns only once the
 * transaction holding its own item has committed. Nothing is acknowledged earlier than it would be alone; what
 * goes is the per-transaction cost, which for small messages is most of a message's cost in the store.
 *
 * <p>A few committer threads ({@code committers}) take everything waiting (up to {@code maxBatch}) whenever they
 * are free, so a batch forms by itself while the previous commit is under way and no caller waits for a timer.
 * If a batch fails, each of its items is tried again alone, so one bad item cannot fail the others; an item that
 * fails alone fails its caller. A batch that failed because the store cannot be reached fails all its callers at
 * once (tried one by one, each would wait for a connection in turn). After {@link #close()} callers do their item alone, on their own thread.
 *
 * @param <T> an item
 * @param <R> the result of one item
 */
final class GroupCommit<T, R> implements AutoCloseable {
    /** Writes a batch in one transaction; returns one result per item, in order. */
    @FunctionalInterface
    interface Batch<T, R> {
        List<R> write(List<T> items) throws IOException;
    }

    /** Writes one item in a transaction of its own. */
    @FunctionalInterface
    interface Single<T, R> {
        R write(T item) throws IOException;
    }

    private record Waiting<T, R>(T item, CompletableFuture<R> done) {}

    private final Batch<T, R> batch;
    private final Single<T, R> single;
    private final int maxBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Waiting<T, R>> waiting = new ArrayDeque<>();
    private final List<Thread> committers = new ArrayList<>();
    private final java.util.function.IntConsumer sizes;
    private boolean closed;

    /** {@code sizes} hears the size of every batch taken (1 for an item written alone), e.g. for a metric. */
    GroupCommit(String name, int committers, int maxBatch, Batch<T, R> batch, Single<T, R> single,
            java.util.function.IntConsumer sizes) {
        this.sizes = sizes;
        this.batch = batch;
        this.single = single;
        this.maxBatch = maxBatch;
        for (int i = 0; i < committers; i++) {
            this.committers.add(Thread.ofVirtual().name(name + "-" + i).start(this::run));
        }
    }

    /**
     * Writes {@code item} with whatever else is waiting and returns its result once that transaction has committed.
     * Throws what writing it alone would: {@link StoreException}, {@link IOException}.
     */
    R write(T item) throws IOException {
        CompletableFuture<R> done = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                done = null;
            } else {
                waiting.addLast(new Waiting<>(item, done));
                arrived.signal();
            }
        } finally {
            lock.unlock();
        }
        if (done == null) {
            return single.write(item);
        }
        try {
            return done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // The item may still be committed: the caller must treat it as not acknowledged, which is safe.
            throw new StoreException("interrupted while waiting for the commit", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new StoreException("group commit: " + cause, cause);
        }
    }

    private void run() {
        while (true) {
            List<Waiting<T, R>> taken = new ArrayList<>();
            lock.lock();
            try {
                while (waiting.isEmpty() && !closed) {
                    arrived.awaitUninterruptibly();
                }
                if (waiting.isEmpty()) {
                    return; // closed and nothing left
                }
                while (!waiting.isEmpty() && taken.size() < maxBatch) {
                    taken.add(waiting.pollFirst());
                }
            } finally {
                lock.unlock();
            }
            sizes.accept(taken.size());
            commit(taken);
        }
    }

    private void commit(List<Waiting<T, R>> taken) {
        Exception batchFailure = null;
        if (taken.size() > 1) {
            try {
                List<R> results = batch.write(taken.stream().map(Waiting::item).toList());
                for (int i = 0; i < taken.size(); i++) {
                    taken.get(i).done().complete(results.get(i));
                }
                return;
            } catch (IOException | RuntimeException e) {
                batchFailure = e;
                if (unreachable(e)) { // every item would wait for a connection in turn: fail them all now
                    taken.forEach(w -> w.done().completeExceptionally(e));
                    return;
                }
                // One at a time instead: an item that cannot be written does not take the others with it.
            }
        }
        for (Waiting<T, R> w : taken) {
            try {
                w.done().complete(single.write(w.item()));
            } catch (IOException | RuntimeException e) {
                if (batchFailure == null) {
                    w.done().completeExceptionally(e);
                } else {
                    // The batch may have committed although it failed (its connection broke after the COMMIT was
                    // sent): the caller must hear of that failure, not only of the retry's, to know that it may
                    // have to look for its item before it answers that nothing was stored.
                    StoreException x = new StoreException(e.getMessage() + "; before that, the group commit: "
                            + batchFailure.getMessage(), batchFailure);
                    x.addSuppressed(e);
                    w.done().completeExceptionally(x);
                }
            }
        }
    }

    /** Whether {@code e} says the store cannot be reached at all (no connection, or the connection broke). */
    static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException
                    || t instanceof java.sql.SQLNonTransientConnectionException
                    || t instanceof java.sql.SQLException sql && sql.getSQLState() != null
                            && sql.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    /** Lets the committers finish what waits, then stop; later items are written by their callers. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        for (Thread t : committers) {
            try {
                t.join(java.time.Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
