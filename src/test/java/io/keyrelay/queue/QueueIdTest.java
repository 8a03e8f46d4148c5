package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class QueueIdTest {
    @Test
    void ids_areVersion7_sortInTheOrderMade_evenWithinOneMillisecond_andNeverGoBack() {
        MutableClock clock = MutableClock.startingNow();
        QueueId ids = new QueueId(clock);
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            made.add(ids.next()); // the clock stands still: all in one millisecond
        }
        clock.advance(Duration.ofMillis(5));
        made.add(ids.next());
        clock.advance(Duration.ofSeconds(-10)); // a clock moved back
        made.add(ids.next());
        assertThat(made).isSorted().doesNotHaveDuplicates().allMatch(QueueId::isValid);
        UUID u = UUID.fromString(made.getFirst());
        assertThat(u.version()).isEqualTo(7);
        assertThat(u.variant()).isEqualTo(2);
        assertThat(u.getMostSignificantBits() >>> 16).isEqualTo(clock.instant().plusSeconds(10).minusMillis(5).toEpochMilli());
        assertThat(QueueId.isValid("01a236ec-19a3-730b-8c2c-66a24acee814")).isTrue();
        assertThat(QueueId.isValid("01A236EC-19a3-730b-8c2c-66a24acee814")).isFalse();
        assertThat(QueueId.isValid("../../etc/passwd")).isFalse();
    }
}
