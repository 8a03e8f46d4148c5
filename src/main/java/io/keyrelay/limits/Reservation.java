package io.keyrelay.limits;

/**
 * One message counted against its key's rates from MAIL FROM on. {@link #release()} gives the count back when the
 * transaction ends without the downstream accepting the message, so a refused, failed or abandoned message uses no
 * quota; a delivered message simply keeps it. Used by one session thread; releasing twice is harmless.
 */
public final class Reservation implements Admission {
    /** For keys without any rate limit: nothing was counted, nothing to give back. */
    static final Reservation UNMETERED = new Reservation(null, 0, -1);

    private final KeyCounters counters;
    private final long minuteInterval;
    private final long day;
    private boolean released;

    Reservation(KeyCounters counters, long minuteInterval, long day) {
        this.counters = counters;
        this.minuteInterval = minuteInterval;
        this.day = day;
    }

    /** Gives back what was counted. */
    public void release() {
        if (released || counters == null) {
            return;
        }
        released = true;
        if (minuteInterval > 0) {
            counters.giveBackMinute(minuteInterval);
        }
        if (day >= 0) {
            counters.giveBackDay(day);
        }
    }
}
