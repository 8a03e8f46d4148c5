package io.keyrelay.queue;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Queue ids: UUIDv7 (RFC 9562 section 5.7), 48 bits of Unix milliseconds then 74 random bits. They sort by the time
 * a message was accepted (in their text form too), and are unique across nodes without coordination. Within one
 * millisecond this generator counts up (the "monotonic random" of section 6.2, method 2), so ids made on one node
 * also sort in the order they were made.
 */
public final class QueueId {
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final ReentrantLock lock = new ReentrantLock();
    private long lastMillis = -1;
    private long lastLow;

    public QueueId(Clock clock) {
        this.clock = clock;
    }

    /** A new id, as its canonical lower-case text ({@code 0192f0c8-…}). */
    public String next() {
        long millis;
        long low;
        lock.lock();
        try {
            millis = Math.max(clock.millis(), lastMillis); // never backwards, even if the clock is moved back
            if (millis == lastMillis) {
                low = lastLow + 1;
            } else {
                low = random.nextLong() >>> 2; // leaves headroom for counting up within the millisecond
            }
            lastMillis = millis;
            lastLow = low;
        } finally {
            lock.unlock();
        }
        long rand12 = (low >>> 62 - 12) & 0xFFF; // top 12 bits of the 62-bit counter-random value → rand_a
        long high = (millis << 16) | 0x7000L | rand12;
        long lowBits = 0x8000_0000_0000_0000L | (low & 0x3FFF_FFFF_FFFF_FFFFL);
        return new UUID(high, lowBits).toString();
    }

    /** True if {@code s} is a queue id's canonical text (so a malformed id is refused, not looked up). */
    public static boolean isValid(String s) {
        if (s == null || s.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return s.charAt(14) == '7';
    }
}
