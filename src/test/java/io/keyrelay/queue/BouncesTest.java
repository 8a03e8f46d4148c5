package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BouncesTest {
    @Test
    void status_isTheReplysEnhancedCode_elseOneFromItsClass() {
        assertThat(Bounces.status("550 5.1.1 no such user", Bounces.Kind.FAILED)).isEqualTo("5.1.1");
        assertThat(Bounces.status("4.4.7 Delivery time expired; last: 451 4.3.0 x", Bounces.Kind.FAILED))
                .isEqualTo("4.4.7");
        assertThat(Bounces.status("554 Transaction failed", Bounces.Kind.FAILED)).isEqualTo("5.0.0");
        assertThat(Bounces.status("downstream io error: reset", Bounces.Kind.DELAYED)).isEqualTo("4.0.0");
    }

    @Test
    void notifies_followsRfc3461Defaults() {
        assertThat(Bounces.notifies(null, "FAILURE")).isTrue();
        assertThat(Bounces.notifies(null, "DELAY")).isTrue();
        assertThat(Bounces.notifies("NEVER", "FAILURE")).isFalse();
        assertThat(Bounces.notifies("SUCCESS,DELAY", "FAILURE")).isFalse();
        assertThat(Bounces.notifies("SUCCESS,FAILURE", "FAILURE")).isTrue();
    }
}
