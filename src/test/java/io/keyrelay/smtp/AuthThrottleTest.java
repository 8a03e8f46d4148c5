package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.testing.MutableClock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The AUTH throttle's rules, on a clock the test moves: no sleeping, no sockets. Each guess is a new wrong secret. */
class AuthThrottleTest {
    private static final RelayConfig.AuthLimits DEFAULTS = new RelayConfig.AuthLimits(5, Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofSeconds(1), 100_000);

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<Duration> pauses = new ArrayList<>();

    private AuthThrottle throttle(RelayConfig.AuthLimits limits) {
        return new AuthThrottle(limits, clock, pauses::add);
    }

    private int guesses;

    /** A failure with a wrong secret never presented before: a guess. */
    private AuthThrottle.Outcome fail(AuthThrottle t, InetAddress client) {
        return t.failed(client, "guess-" + guesses++);
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal); // literals only: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void fifthFailureWithinTheWindow_bansForTheBanDuration_thenCountingStartsAfresh() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress a = ip("203.0.113.7");
        for (int i = 0; i < 4; i++) {
            assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.COUNTED);
            clock.advance(Duration.ofSeconds(30));
        }
        assertThat(t.isBanned(a)).isFalse();
        assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.BANNED);
        Instant bannedAt = clock.instant();
        assertThat(t.bannedUntil(a)).contains(bannedAt.plus(Duration.ofMinutes(15)));

        clock.advance(Duration.ofMinutes(15).minusMillis(1));
        assertThat(t.isBanned(a)).isTrue();
        assertThat(fail(t, a)).as("a failure while refused changes nothing").isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(t.bannedUntil(a)).contains(bannedAt.plus(Duration.ofMinutes(15)));
        clock.advance(Duration.ofMillis(1));
        assertThat(t.isBanned(a)).isFalse();

        for (int i = 0; i < 4; i++) {
            assertThat(fail(t, a)).as("the count restarted after the ban").isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void failuresSpreadWiderThanTheWindow_neverBan() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress a = ip("198.51.100.1");
        for (int i = 0; i < 50; i++) {
            assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.COUNTED);
            clock.advance(Duration.ofSeconds(75)); // five failures span exactly the 5-minute window: not within it
        }
        assertThat(t.isBanned(a)).isFalse();
    }

    @Test
    void theWindowSlides_theLastFiveCount() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress a = ip("198.51.100.2");
        fail(t, a);
        clock.advance(Duration.ofMinutes(10));
        for (int i = 0; i < 3; i++) {
            fail(t, a);
            clock.advance(Duration.ofMinutes(1));
        }
        assertThat(fail(t, a)).as("the old failure fell out of the window").isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void ipv4AddressesCountAlone_ipv6CountsPer64_mappedIpv4IsIpv4() {
        AuthThrottle t = throttle(new RelayConfig.AuthLimits(2, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000));
        fail(t, ip("192.0.2.1"));
        assertThat(fail(t, ip("192.0.2.2"))).isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(fail(t, ip("::ffff:192.0.2.1"))).isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(t.isBanned(ip("192.0.2.1"))).isTrue();
        assertThat(t.isBanned(ip("192.0.2.2"))).isFalse();

        fail(t, ip("2001:db8:1:2::1"));
        assertThat(fail(t, ip("2001:db8:1:3::1"))).as("another /64").isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(fail(t, ip("2001:db8:1:2:ffff:ffff:ffff:fffe"))).isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(t.isBanned(ip("2001:db8:1:2:abcd::9"))).as("the whole /64 is refused").isTrue();
        assertThat(t.isBanned(ip("2001:db8:1:3::1"))).isFalse();
    }

    @Test
    void aFloodOfDistinctAddresses_staysWithinTheBound() {
        AuthThrottle t = throttle(new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000));
        for (int i = 0; i < 50_000; i++) {
            fail(t, ip("10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff)));
        }
        assertThat(t.trackedAddresses()).isLessThanOrEqualTo(1000);
    }

    @Test
    void counters_areForgottenAfterTheWindowAndTheBan() {
        AuthThrottle t = throttle(DEFAULTS);
        for (int i = 0; i < 5; i++) {
            fail(t, ip("192.0.2.9"));
        }
        fail(t, ip("192.0.2.10"));
        assertThat(t.trackedAddresses()).isEqualTo(2);
        clock.advance(Duration.ofMinutes(15).plusSeconds(1));
        assertThat(t.trackedAddresses()).isZero();
        assertThat(t.isBanned(ip("192.0.2.9"))).isFalse();
    }

    @Test
    void oneStaleKeyRetriedForever_neverBans_whileFiveDifferentWrongKeysDo() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress app = ip("203.0.113.20");
        for (int i = 0; i < 1000; i++) {
            assertThat(t.failed(app, "the-old-key")).isEqualTo(AuthThrottle.Outcome.COUNTED);
            clock.advance(Duration.ofMillis(100));
        }
        assertThat(t.isBanned(app)).as("one wrong key, a thousand times").isFalse();

        InetAddress guesser = ip("203.0.113.21");
        for (int i = 0; i < 4; i++) {
            assertThat(t.failed(guesser, "key-" + i)).isEqualTo(AuthThrottle.Outcome.COUNTED);
            assertThat(t.failed(guesser, "key-" + i)).as("the same one again adds nothing")
                    .isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        assertThat(t.failed(guesser, "key-4")).isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void theStaleKeyCountsOnce_amongGuessesFromTheSameAddress() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress a = ip("203.0.113.22");
        for (int i = 0; i < 10; i++) {
            t.failed(a, "stale"); // smtplib: PLAIN, then LOGIN, with the same key, over and over
        }
        for (int i = 0; i < 3; i++) {
            assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        assertThat(fail(t, a)).as("the stale key and four guesses: five distinct").isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void aSecretPresentedAgain_staysInTheWindowFromItsLastUse() {
        AuthThrottle t = throttle(DEFAULTS);
        InetAddress a = ip("203.0.113.23");
        t.failed(a, "stale");
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(2));
            t.failed(a, "stale"); // still presented, so it never leaves the window
        }
        for (int i = 0; i < 3; i++) {
            assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.COUNTED);
        }
        assertThat(fail(t, a)).isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void aValidKeyRefusedForItsAddressOrGrant_isNotCounted_butARevokedOrUnknownOneIs() {
        AuthThrottle t = throttle(new RelayConfig.AuthLimits(2, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ZERO, 1000));
        InetAddress a = ip("203.0.113.24");
        for (AuthDecision.Reason r : List.of(AuthDecision.Reason.IP_NOT_ALLOWED, AuthDecision.Reason.MISSING_GRANT,
                AuthDecision.Reason.BAD_USERNAME, AuthDecision.Reason.SUBACCOUNT_MISMATCH)) {
            for (int i = 0; i < 5; i++) {
                assertThat(t.refused(a, r + "-" + i, r)).as("%s", r).isEqualTo(AuthThrottle.Outcome.COUNTED);
            }
        }
        assertThat(t.isBanned(a)).isFalse();
        assertThat(t.refused(a, "revoked-key", AuthDecision.Reason.REVOKED)).isEqualTo(AuthThrottle.Outcome.COUNTED);
        assertThat(t.refused(a, "unknown-key", AuthDecision.Reason.UNKNOWN)).isEqualTo(AuthThrottle.Outcome.BANNED);
        assertThat(t.refused(a, "x", AuthDecision.Reason.IP_NOT_ALLOWED))
                .as("uncounted, but the address is refused already").isEqualTo(AuthThrottle.Outcome.BANNED);
    }

    @Test
    void fingerprints_are64BitsOfSha256_neverTheSecret() {
        String secret = "0123456789abcdef0123456789abcdef01234567";
        String f = AuthThrottle.fingerprint(secret);
        assertThat(f).hasSize(16).matches("[0-9a-f]{16}").isNotEqualTo(secret.substring(0, 16));
        assertThat(AuthThrottle.fingerprint(secret)).isEqualTo(f);
        assertThat(AuthThrottle.fingerprint(secret.replace('7', '8'))).isNotEqualTo(f);
    }

    @Test
    void pauseAfterFailure_waitsTheConfiguredDelay_andNotAtAllWhenZero() {
        throttle(DEFAULTS).pauseAfterFailure();
        assertThat(pauses).containsExactly(Duration.ofSeconds(1));
        throttle(new RelayConfig.AuthLimits(5, Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ZERO, 100))
                .pauseAfterFailure();
        assertThat(pauses).hasSize(1);
    }
}
