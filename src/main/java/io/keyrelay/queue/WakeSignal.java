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
 */
final class WakeSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;

    long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    void wake() {
        lock.lock();
        try {
            generation++;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    void wakeAll() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
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
