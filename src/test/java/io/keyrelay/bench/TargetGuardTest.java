package io.keyrelay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** No sockets: resolving an IP literal or "localhost" asks no DNS server and connects nowhere. */
class TargetGuardTest {

    @Test
    void loopbackTargets_areAllowed() {
        assertThat(TargetGuard.resolve("127.0.0.1", 25, false).getAddress().isLoopbackAddress()).isTrue();
        assertThat(TargetGuard.resolve("127.0.0.2", 25, false).getPort()).isEqualTo(25);
        assertThat(TargetGuard.resolve("::1", 25, false).getAddress().isLoopbackAddress()).isTrue();
        assertThat(TargetGuard.resolve("localhost", 25, false).getAddress().isLoopbackAddress()).isTrue();
    }

    @Test
    void otherTargets_areRefusedUnlessAllowed() {
        assertThatThrownBy(() -> TargetGuard.resolve("192.0.2.1", 25, false))
                .hasMessage("--host: 192.0.2.1 is 192.0.2.1, not a loopback address; keyrelay bench loads only this"
                        + " machine unless --allow-remote is given");
        assertThatThrownBy(() -> TargetGuard.resolve("2001:db8::1", 25, false)).hasMessageContaining("--allow-remote");
        assertThat(TargetGuard.resolve("192.0.2.1", 25, true).getAddress().getHostAddress()).isEqualTo("192.0.2.1");
    }
}
