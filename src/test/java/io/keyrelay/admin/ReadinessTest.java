package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ReadinessTest {
    @Test
    void allOf_isReadyOnlyWhenEveryCheckPasses_andNamesEachFailingOne() {
        AtomicBoolean smtp = new AtomicBoolean(true);
        var readiness = Readiness.allOf(List.of(
                Readiness.check("key store unreachable", () -> true),
                Readiness.check("SMTP not listening", smtp::get)));
        assertThat(readiness.get()).isEmpty();
        smtp.set(false);
        assertThat(readiness.get()).contains("SMTP not listening");
    }

    @Test
    void aCheckThatThrows_failsWithItsMessage() {
        var readiness = Readiness.allOf(List.of(
                Readiness.check("key store unreachable", () -> false),
                Readiness.check("SMTP not listening", () -> {
                    throw new IllegalStateException("listener closed");
                })));
        assertThat(readiness.get()).contains("key store unreachable; SMTP not listening (listener closed)");
    }

    @Test
    void aNoteThatDoesNotHold_isListed_butTheNodeStaysReady() {
        AtomicBoolean redis = new AtomicBoolean(true);
        var readiness = Readiness.allOf(List.of(
                Readiness.check("key store unreachable", () -> true),
                Readiness.note("Redis unreachable: limits and AUTH failures counted on this node", redis::get)));
        assertThat(readiness.get()).isEmpty();
        assertThat(readiness.notes()).isEmpty();
        redis.set(false);
        assertThat(readiness.get()).isEmpty();
        assertThat(readiness.notes()).containsExactly("Redis unreachable: limits and AUTH failures counted on this node");
    }
}
