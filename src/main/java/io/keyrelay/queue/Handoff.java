package io.keyrelay.queue;

import io.keyrelay.dkim.Spool;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Messages this node has just stored already claimed ({@link JdbcQueueStore#insert} with a lease), waiting for one
 * of its own workers, with the copy the SMTP session made of them: the first attempt needs neither a claim query
 * nor a read of the body back from the store. At most {@code slots} wait at a time (one per worker), so the copies
 * held are bounded; a message that finds no slot is stored unclaimed and taken by a claim, on any node.
 *
 * <p>A slot is {@linkplain #reserve() reserved} before the message is stored (so the claimed message always has a
 * place once committed) and freed when a worker {@linkplain #poll() takes} the message. After {@link #close()}
 * nothing more is reserved or put; what was waiting is returned, for the caller to give back to the queue.
 */
final class Handoff {
    /** A claimed message and its copy: {@code prefix} (keyrelay's headers) then the client's bytes in {@code body}. */
    record Item(Claim claim, byte[] prefix, Spool body) {}

    private final Semaphore slots;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Item> items = new ArrayDeque<>();
    private boolean closed;

    Handoff(int slots) {
        this.slots = new Semaphore(slots);
    }

    /** Takes a slot for a message about to be stored; false when every slot is taken or the handoff is closed. */
    boolean reserve() {
        if (!slots.tryAcquire()) {
            return false;
        }
        lock.lock();
        try {
            if (!closed) {
                return true;
            }
        } finally {
            lock.unlock();
        }
        slots.release();
        return false;
    }

    /** Frees a slot reserved for a message that was not put (its storing failed). */
    void unreserve() {
        slots.release();
    }

    /** Hands a stored, claimed message to the workers; false (nothing kept) if the handoff closed meanwhile. */
    boolean put(Item item) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            items.addLast(item);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest waiting message, or null; its slot is freed. */
    Item poll() {
        Item item;
        lock.lock();
        try {
            item = items.pollFirst();
        } finally {
            lock.unlock();
        }
        if (item != null) {
            slots.release();
        }
        return item;
    }

    /** Refuses further messages and returns those still waiting. */
    List<Item> close() {
        lock.lock();
        try {
            closed = true;
            List<Item> left = new ArrayList<>(items);
            items.clear();
            return left;
        } finally {
            lock.unlock();
        }
    }
}
