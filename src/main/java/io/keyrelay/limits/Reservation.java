package io.keyrelay.limits;

/**
 * One message counted against its key's rates from MAIL FROM on. {@link #release()} gives the count back when the
 * transaction ends without the downstream accepting the message, so a refused, failed or abandoned message uses no
 * quota; a delivered message simply keeps it. Used by one session thread; releasing twice is harmless.
 */
public final class Reservation implements Admission {
    /** For keys without any rate limit: nothing was counted, nothing to give back. */
    static final Reservation UNMETERED = new Reservation(null, 0, -1);

    /** Where the counts were taken, and so where they are given back: this node's counters, or shared ones. */
    @FunctionalInterface
    interface Undo {
        /** Gives back {@code minuteInterval} of the minute rate (0: none taken) and one message of {@code day} (-1: none). */
        void giveBack(long minuteInterval, long day);
    }

    private final Undo undo;
    private final long minuteInterval;
    private final long day;
    private boolean released;

    Reservation(Undo undo, long minuteInterval, long day) {
        this.undo = undo;
        this.minuteInterval = minuteInterval;
        this.day = day;
    }

    /** Gives back what was counted. */
    public void release() {
        if (released || undo == null) {
            return;
        }
        released = true;
        if (minuteInterval > 0 || day >= 0) {
            undo.giveBack(minuteInterval, day);
        }
    }
}
