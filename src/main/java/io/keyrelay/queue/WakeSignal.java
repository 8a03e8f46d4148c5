package io.keyrelay.queue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes idle delivery workers when a message becomes due (committed on this node, retried, released, or announced
 * by another node). A worker notes {@link #generation()} before it looks for work and, finding none, waits for a
 * later generation: a wake that comes between the look and the wait is not lost. {@link #wake()} wakes one idle
 * worker — one message needs one, and waking all of them would cost a claim query each — and {@link #wakeAll()}
 * every one.
 *
 * <p>Every wake but {@link #wakeForHandoff()} also moves {@link #storeGeneration()}: something may have become due
 * in the store, so a worker that found the store empty before it must look again ({@link DeliveryWorkers}). A
 * message handed to this node's workers ({@link Handoff}) needs no look in the store.
 */
final class WakeSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;
    private volatile long storeGeneration;

    long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /** How many wakes so far could have made a message due in the store. */
    long storeGeneration() {
        return storeGeneration;
    }

    void wake() {
        lock.lock();
        try {
            generation++;
            storeGeneration++;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    void wakeAll() {
        lock.lock();
        try {
            generation++;
            storeGeneration++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes one idle worker for a message handed over in memory ({@link Handoff}): nothing new in the store. */
    void wakeForHandoff() {
        lock.lock();
        try {
            generation++;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the generation is past {@code seen}, or {@code timeout} has passed. */
    void awaitAfter(long seen, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (generation == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
