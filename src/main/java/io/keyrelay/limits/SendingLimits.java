package io.keyrelay.limits;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.KeyLimits;

/**
 * The limits that apply to one key's messages: the key's own where it has them, else the relay's defaults. A rate
 * of 0 means unlimited, and so does 0 concurrent sessions.
 *
 * <p>A key's rates and recipient limit replace the defaults in either direction. Its message size can only lower
 * {@code smtp.max_message_size}: EHLO comes before AUTH, so a client has already been told the server's SIZE
 * (RFC 1870) and a compliant one would not send more than that whatever its key allows.
 */
public record SendingLimits(long messagesPerMinute, long messagesPerDay, int maxRecipients, long maxMessageSize,
        int sessionsPerKey) {

    /** Limits with no cap on the key's concurrent sessions. */
    public SendingLimits(long messagesPerMinute, long messagesPerDay, int maxRecipients, long maxMessageSize) {
        this(messagesPerMinute, messagesPerDay, maxRecipients, maxMessageSize, 0);
    }

    /** Resolves a key's own limits against the configured defaults. */
    public static SendingLimits of(KeyLimits own, RelayConfig.Limits defaults, RelayConfig.Smtp smtp) {
        return new SendingLimits(
                own.messagesPerMinute() != null ? own.messagesPerMinute() : defaults.messagesPerMinute(),
                own.messagesPerDay() != null ? own.messagesPerDay() : defaults.messagesPerDay(),
                own.maxRecipients() != null ? (int) (long) own.maxRecipients() : smtp.maxRecipients(),
                own.maxMessageSize() != null ? Math.min(own.maxMessageSize(), smtp.maxMessageSize())
                        : smtp.maxMessageSize(),
                own.sessionsPerKey() != null ? (int) (long) own.sessionsPerKey() : defaults.sessionsPerKey());
    }

    /** True when neither rate is limited, so nothing needs counting. */
    public boolean unmetered() {
        return messagesPerMinute == 0 && messagesPerDay == 0;
    }
}
