package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.testing.MutableClock;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Per-address admission: concurrent sessions, and the anvil-style connection rate on a clock that tests move. */
class AddressLimitsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    private AddressLimits limits(int open, int rate) {
        Duration d = Duration.ofMinutes(5);
        return new AddressLimits(new RelayConfig.SessionLimits(open, rate, Duration.ofMinutes(1), d, d, d, d, d, 20, 100),
                1000, clock);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void concurrentSessions_areCappedPerAddress_andAnIpv6Slash64CountsAsOne() throws Exception {
        AddressLimits l = limits(2, 0);
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.TOO_MANY);
        assertThat(l.connected(ip("192.0.2.2"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        l.closed(ip("192.0.2.1"));
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        assertThat(l.connected(ip("2001:db8:1:2::1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        assertThat(l.connected(ip("2001:db8:1:2:ffff::9"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        assertThat(l.connected(ip("2001:db8:1:2::77"))).isEqualTo(AddressLimits.Admission.TOO_MANY);
        assertThat(l.connected(ip("2001:db8:1:3::1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        l.closed(ip("192.0.2.2"));
        assertThat(l.openFrom(ip("192.0.2.2"))).isZero();
    }

    @Test
    void theRate_countsEveryAttemptInAWindowFromTheFirst_andStartsAgainAfterIt() throws Exception {
        AddressLimits l = limits(0, 3);
        for (int i = 0; i < 3; i++) {
            assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
            clock.advance(Duration.ofSeconds(10));
        }
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.TOO_FAST);
        assertThat(l.connected(ip("192.0.2.9"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
        clock.advance(Duration.ofSeconds(31)); // a minute after the first
        assertThat(l.connected(ip("192.0.2.1"))).isEqualTo(AddressLimits.Admission.ACCEPTED);
    }
}
