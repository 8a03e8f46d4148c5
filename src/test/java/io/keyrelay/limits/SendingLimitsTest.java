package io.keyrelay.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeyLimits.Limit;
import io.keyrelay.keys.KeyValidationException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a key's own limits combine with the configured defaults, and how limit values are read and shown. */
class SendingLimitsTest {
    private static final RelayConfig CONFIG = ConfigLoader.build(new ConfigLoader.Raw(Map.of(
            Setting.LIMITS_MESSAGES_PER_MINUTE, "60", Setting.LIMITS_MESSAGES_PER_DAY, "1000",
            Setting.SMTP_MAX_RECIPIENTS, "50", Setting.SMTP_MAX_MESSAGE_SIZE, "10MiB"), List.of()));

    private static SendingLimits resolve(KeyLimits own) {
        return SendingLimits.of(own, CONFIG.limits(), CONFIG.smtp());
    }

    @Test
    void unsetLimits_takeTheConfiguredDefaults() {
        assertThat(resolve(KeyLimits.DEFAULTS)).isEqualTo(new SendingLimits(60, 1000, 50, 10L << 20, 16));
    }

    @Test
    void aKeysRatesAndRecipients_replaceTheDefaults_eitherWay_butItsSizeOnlyLowersTheServers() {
        assertThat(resolve(new KeyLimits(0L, 5000L, 500L, 1L << 20, 0L)))
                .isEqualTo(new SendingLimits(0, 5000, 500, 1L << 20, 0));
        assertThat(resolve(new KeyLimits(null, null, 2L, 100L << 20)).maxMessageSize())
                .as("SIZE was advertised before AUTH").isEqualTo(10L << 20);
        assertThat(resolve(new KeyLimits(0L, 0L, null, null)).unmetered()).isTrue();
    }

    @Test
    void limitValues_parseFromText_andShowTheSameWay() {
        assertThat(Limit.MESSAGES_PER_MINUTE.parse("120")).isEqualTo(120L);
        assertThat(Limit.MESSAGES_PER_DAY.parse("unlimited")).isZero();
        assertThat(Limit.MESSAGES_PER_DAY.parse(" default ")).isNull();
        assertThat(Limit.MAX_RECIPIENTS.parse("")).isNull();
        assertThat(Limit.MAX_MESSAGE_SIZE.parse("10MiB")).isEqualTo(10L << 20);
        assertThat(Limit.MAX_MESSAGE_SIZE.format(10L << 20)).isEqualTo("10MiB");
        assertThat(Limit.MESSAGES_PER_MINUTE.format(0)).isEqualTo("unlimited");
        assertThat(new KeyLimits(100L, null, null, 1L << 20).describe())
                .isEqualTo("messages_per_minute=100 max_message_size=1MiB");
    }

    @Test
    void badLimitValues_areRefused_namingTheLimit() {
        assertThatThrownBy(() -> Limit.MAX_RECIPIENTS.parse("unlimited"))
                .isInstanceOfSatisfying(KeyValidationException.class, e -> assertThat(e.field()).isEqualTo("max_recipients"));
        assertThatThrownBy(() -> Limit.MAX_RECIPIENTS.parse("0")).hasMessageContaining("out of range (1 to 100000)");
        assertThatThrownBy(() -> Limit.MESSAGES_PER_MINUTE.parse("-1")).hasMessageContaining("0 = unlimited");
        assertThatThrownBy(() -> Limit.MAX_MESSAGE_SIZE.parse("12 parsecs")).hasMessageContaining("is not a size");
        assertThatThrownBy(() -> Limit.MAX_MESSAGE_SIZE.parse("100")).hasMessageContaining("1024 to");
        assertThatThrownBy(() -> new KeyLimits(null, 2_000_000_000L, null, null))
                .isInstanceOfSatisfying(KeyValidationException.class,
                        e -> assertThat(e.field()).isEqualTo("messages_per_day"));
    }
}
