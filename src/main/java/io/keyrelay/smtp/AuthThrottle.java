package io.keyrelay.smtp;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.AddressBucket;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The brute-force brake on SMTP AUTH: failed AUTHs counted per client address (per /64 for IPv6,
 * {@link AddressBucket}); {@code limits.auth_failures} of them within {@code limits.auth_window} get the address
 * refused for {@code limits.auth_ban}. Every failure is also answered only after {@code limits.auth_delay}.
 *
 * <p>The window slides: the address is refused when its last {@code auth_failures} failures lie within
 * {@code auth_window} of each other. A ban starts the count afresh. A successful AUTH does not clear the count, so
 * a client holding one valid key cannot use it to keep guessing others.
 *
 * <p>Memory is bounded under a flood of distinct addresses: the counters live in a Caffeine cache of at most
 * {@code limits.auth_tracked_addresses} entries, each dropped {@code max(auth_window, auth_ban)} after its last
 * failure. Time comes from the {@link Clock} (also as the cache's ticker), so the rules are tested by moving a
 * clock rather than by waiting. The counters are this node's own; several nodes do not share them.
 */
public final class AuthThrottle {
    /** Waits out the delay before a failure is answered. */
    @FunctionalInterface
    public interface Pause {
        void pause(Duration d) throws InterruptedException;
    }

    /** What a failure did: counted, or it was the one too many and the address is now refused. */
    public enum Outcome { COUNTED, BANNED }

    private final RelayConfig.AuthLimits limits;
    private final Clock clock;
    private final Pause pause;
    private final Cache<String, Failures> failures;
    private final long windowMillis;
    private final long banMillis;

    /**
     * A throttle on {@code clock} whose delay is {@code pause}: {@code Thread::sleep} in the relay. SMTP sessions run
     * on virtual threads, where a sleep unmounts the thread from its carrier, so a thousand delayed failures hold no
     * platform thread.
     */
    public AuthThrottle(RelayConfig.AuthLimits limits, Clock clock, Pause pause) {
        this.limits = limits;
        this.clock = clock;
        this.pause = pause;
        this.windowMillis = limits.window().toMillis();
        this.banMillis = limits.ban().toMillis();
        Duration keep = limits.window().compareTo(limits.ban()) > 0 ? limits.window() : limits.ban();
        this.failures = Caffeine.newBuilder()
                .maximumSize(limits.trackedAddresses())
                .expireAfterWrite(keep)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .executor(Runnable::run) // evictions are cheap; doing them inline keeps the bound exact
                .build();
    }

    /** Until when the address is refused, if it is. */
    public Optional<Instant> bannedUntil(InetAddress client) {
        Failures f = failures.getIfPresent(AddressBucket.of(client));
        if (f == null) {
            return Optional.empty();
        }
        long until = f.bannedUntil;
        return until > clock.millis() ? Optional.of(Instant.ofEpochMilli(until)) : Optional.empty();
    }

    public boolean isBanned(InetAddress client) {
        return bannedUntil(client).isPresent();
    }

    /** Counts a failed AUTH from {@code client}; {@link Outcome#BANNED} when the address is now refused. */
    public Outcome failed(InetAddress client) {
        long now = clock.millis();
        Outcome[] outcome = {Outcome.COUNTED};
        failures.asMap().compute(AddressBucket.of(client), (bucket, f) -> {
            Failures entry = f == null ? new Failures(limits.failures()) : f;
            if (entry.bannedUntil > now || entry.record(now, windowMillis)) {
                if (entry.bannedUntil <= now) {
                    entry.bannedUntil = now + banMillis;
                }
                outcome[0] = Outcome.BANNED;
            }
            return entry;
        });
        return outcome[0];
    }

    /** Waits {@code limits.auth_delay} before a failure is answered; returns at once when the delay is zero. */
    public void pauseAfterFailure() {
        if (limits.delay().isZero()) {
            return;
        }
        try {
            pause.pause(limits.delay());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down: answer now
        }
    }

    public RelayConfig.AuthLimits limits() {
        return limits;
    }

    /** How many addresses are remembered now (at most {@code limits.auth_tracked_addresses}). */
    public long trackedAddresses() {
        failures.cleanUp();
        return failures.estimatedSize();
    }

    /** One address's recent failure times (a ring of the last {@code auth_failures}) and its ban. */
    private static final class Failures {
        private final long[] times;
        private int next;
        private int count;
        volatile long bannedUntil;

        Failures(int size) {
            this.times = new long[size];
        }

        /** Records a failure at {@code now}; true when the last {@code times.length} lie within the window. */
        boolean record(long now, long windowMillis) {
            times[next] = now;
            next = (next + 1) % times.length;
            if (count < times.length) {
                count++;
            }
            if (count == times.length && now - times[next] < windowMillis) { // times[next] is now the oldest
                count = 0;
                return true;
            }
            return false;
        }
    }
}
