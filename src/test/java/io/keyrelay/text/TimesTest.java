package io.keyrelay.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimesTest {
    @Test
    void everyInstant_printsToTheSecond_whateverItsFraction() {
        assertThat(Times.iso(Instant.parse("2027-01-31T09:30:00Z"))).isEqualTo("2027-01-31T09:30:00Z");
        assertThat(Times.iso(Instant.parse("2027-01-31T09:30:05.123Z"))).isEqualTo("2027-01-31T09:30:05Z");
        assertThat(Times.iso(Instant.parse("2027-01-31T09:30:05.123456789Z"))).isEqualTo("2027-01-31T09:30:05Z");
        assertThat(Times.iso(null)).isNull();
    }
}
