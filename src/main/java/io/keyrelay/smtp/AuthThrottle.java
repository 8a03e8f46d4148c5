package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.net.AddressBucket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The brute-force brake on SMTP AUTH, the admin API and console sign-in: wrong secrets counted per client address
 * (per /64 for IPv6, {@link AddressBucket}); {@code limits.auth_failures} <em>distinct</em> wrong secrets within
 * {@code limits.auth_window} get the address refused for {@code limits.auth_ban}. Every failure is also answered
 * only after {@code limits.auth_delay}.
 *
 * <p>Distinct, because a guesser presents many keys and a misconfigured application presents one stale key again
 * and again — Python's {@code smtplib.login()} even tries it twice per attempt, with PLAIN and then LOGIN. Counting
 * attempts banned the application's whole host (every other key from it, and the admin API) for the ban's length;
 * counting distinct secrets refuses the stale key with 535 every time and bans only what guesses. Secrets are kept
 * as {@link #fingerprint fingerprints} (64 bits of SHA-256), in the {@link AuthFailureStore}, never as such.
 *
 * <p>Only a wrong secret counts ({@link #counts}): a real, valid key refused for its source address, a missing
 * grant, the username or the subaccount proves the client holds a key, so it costs a 535 but no step toward a ban.
 * A ban starts the count afresh. A successful AUTH does not clear the count, so a client holding one valid key
 * cannot use it to keep guessing others. Time comes from the {@link Clock}, so the rules are tested by moving it.
 */
public final class AuthThrottle {
    /** Waits out the delay before a failure is answered. */
    @FunctionalInterface
    public interface Pause {
        void pause(Duration d) throws InterruptedException;
    }

    /** What a failure did: counted (or not counted), or it was the one too many and the address is now refused. */
    public enum Outcome { COUNTED, BANNED }

    private final RelayConfig.AuthLimits limits;
    private final Clock clock;
    private final Pause pause;
    private final AuthFailureStore store;

    /**
     * A throttle on {@code clock} whose delay is {@code pause}: {@code Thread::sleep} in the relay. SMTP sessions run
     * on virtual threads, where a sleep unmounts the thread from its carrier, so a thousand delayed failures hold no
     * platform thread. Counts are this node's own ({@link InMemoryAuthFailures}).
     */
    public AuthThrottle(RelayConfig.AuthLimits limits, Clock clock, Pause pause) {
        this(limits, clock, pause, onThisNode(limits, clock));
    }

    /** This node's own store of counts for {@code limits}: bounded, each bucket kept for the window or the ban. */
    public static InMemoryAuthFailures onThisNode(RelayConfig.AuthLimits limits, Clock clock) {
        return new InMemoryAuthFailures(limits.failures(), limits.trackedAddresses(),
                limits.window().compareTo(limits.ban()) > 0 ? limits.window() : limits.ban(), clock);
    }

    /** A throttle that keeps its counts in {@code store} (shared by several nodes, for instance). */
    public AuthThrottle(RelayConfig.AuthLimits limits, Clock clock, Pause pause, AuthFailureStore store) {
        this.limits = limits;
        this.clock = clock;
        this.pause = pause;
        this.store = store;
    }

    /** Whether a refusal for {@code reason} counts toward a ban: only when the secret itself was wrong. */
    public static boolean counts(AuthDecision.Reason reason) {
        return switch (reason) {
            case UNKNOWN, REVOKED, EXPIRED -> true;
            case MISSING_GRANT, IP_NOT_ALLOWED, BAD_USERNAME, SUBACCOUNT_MISMATCH, AUTHZID_MISMATCH -> false;
        };
    }

    /** The form a presented secret is counted by: the first 64 bits of its SHA-256, in hex. */
    public static String fingerprint(String secret) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Until when the address is refused, if it is. */
    public Optional<Instant> bannedUntil(InetAddress client) {
        return store.bannedUntil(AddressBucket.of(client), clock.instant());
    }

    public boolean isBanned(InetAddress client) {
        return bannedUntil(client).isPresent();
    }

    /**
     * Counts the wrong secret {@code secret} from {@code client}; {@link Outcome#BANNED} when the address is now
     * refused (or was already). The same secret again refreshes its place in the window but adds nothing.
     */
    public Outcome failed(InetAddress client, String secret) {
        String bucket = AddressBucket.of(client);
        Instant now = clock.instant();
        if (store.bannedUntil(bucket, now).isPresent()) {
            return Outcome.BANNED;
        }
        int distinct = store.recordFailure(bucket, fingerprint(secret), now, limits.window());
        if (distinct < 0) {
            return Outcome.BANNED; // banned already, which a shared store learns as it counts
        }
        if (distinct >= limits.failures()) {
            store.ban(bucket, now.plus(limits.ban()));
            return Outcome.BANNED;
        }
        return Outcome.COUNTED;
    }

    /**
     * A refusal for {@code reason}: counted as {@link #failed} when {@link #counts} says the secret was wrong,
     * else {@link Outcome#COUNTED} without counting (the address may still be refused already).
     */
    public Outcome refused(InetAddress client, String secret, AuthDecision.Reason reason) {
        if (counts(reason)) {
            return failed(client, secret);
        }
        return isBanned(client) ? Outcome.BANNED : Outcome.COUNTED;
    }

    /**
     * Waits {@code limits.auth_delay} before a failure is answered; returns at once when the delay is zero. Every
     * refusal waits, counted or not, so the time to answer does not tell a real key refused for its address from a
     * wrong one.
     */
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

    /** How many addresses are remembered now (at most {@code limits.auth_tracked_addresses} on one node). */
    public long trackedAddresses() {
        return store.trackedBuckets();
    }
}
