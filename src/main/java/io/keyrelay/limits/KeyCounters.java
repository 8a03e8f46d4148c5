package io.keyrelay.limits;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One key's message counters on this node: two words updated by compare-and-set, so concurrent sessions of one key
 * count exactly without a lock.
 *
 * <p>The minute rate is a GCRA (generic cell rate algorithm, the virtual-scheduling form of a token bucket): it
 * keeps the theoretical arrival time of the next message, which advances by {@code 60s / N} per message; a message
 * is allowed while that time is at most {@code 60s - 60s/N} ahead of now, i.e. a burst of N, then one every
 * {@code 60s/N}. Because only the time is stored, a changed limit applies to the next message as it is.
 *
 * <p>The day quota is a count for one UTC day, packed with the day number into one long ({@code day << 32 | count});
 * the first message of a new day starts the count again.
 */
final class KeyCounters implements Reservation.Undo {
    static final long MINUTE_NANOS = 60_000_000_000L;
    private static final long COUNT_MASK = 0xffff_ffffL;

    private final AtomicLong nextArrival = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong dayCount = new AtomicLong(-1L << 32);

    /** Takes one message from a limit of {@code perMinute} at {@code nowNanos}; returns the interval used, or 0 if refused. */
    long takeMinute(long nowNanos, long perMinute) {
        long interval = MINUTE_NANOS / perMinute;
        long tolerance = MINUTE_NANOS - interval;
        while (true) {
            long tat = nextArrival.get();
            long start = Math.max(tat, nowNanos);
            if (start - nowNanos > tolerance) {
                return 0;
            }
            if (nextArrival.compareAndSet(tat, start + interval)) {
                return interval;
            }
        }
    }

    @Override
    public void giveBack(long minuteInterval, long day) {
        if (minuteInterval > 0) {
            giveBackMinute(minuteInterval);
        }
        if (day >= 0) {
            giveBackDay(day);
        }
    }

    void giveBackMinute(long interval) {
        nextArrival.addAndGet(-interval);
    }

    /** Counts one message on {@code day} if fewer than {@code perDay} were counted there; true if it was. */
    boolean takeDay(long day, long perDay) {
        while (true) {
            long v = dayCount.get();
            long count = (v >> 32) == day ? v & COUNT_MASK : 0;
            if (count >= perDay) {
                return false;
            }
            if (dayCount.compareAndSet(v, (day << 32) | (count + 1))) {
                return true;
            }
        }
    }

    /** Uncounts one message of {@code day}; nothing if the day has turned since (the new day never counted it). */
    void giveBackDay(long day) {
        while (true) {
            long v = dayCount.get();
            if ((v >> 32) != day || (v & COUNT_MASK) == 0) {
                return;
            }
            if (dayCount.compareAndSet(v, v - 1)) {
                return;
            }
        }
    }

    /** Messages counted on {@code day} (for tests and diagnostics). */
    long countOn(long day) {
        long v = dayCount.get();
        return (v >> 32) == day ? v & COUNT_MASK : 0;
    }
}
