package io.keyrelay.keys;

import io.keyrelay.config.Sizes;
import io.keyrelay.text.Ascii;

/**
 * A key's own sending limits, as stored with it. A null field means "the relay's default" (the {@code limits.*}
 * and {@code smtp.max_*} configuration); for the two rates and the sessions, 0 means unlimited even when the
 * default is a limit.
 *
 * <p>How the relay applies these values is {@code io.keyrelay.limits.SendingLimits}'s business; this record only
 * holds and validates them.
 */
public record KeyLimits(Long messagesPerMinute, Long messagesPerDay, Long maxRecipients, Long maxMessageSize,
        Long sessionsPerKey) {
    /** Every limit at the relay's default. */
    public static final KeyLimits DEFAULTS = new KeyLimits(null, null, null, null, null);

    public KeyLimits {
        for (Limit l : Limit.values()) {
            l.validate(l.of(messagesPerMinute, messagesPerDay, maxRecipients, maxMessageSize, sessionsPerKey));
        }
    }

    /** The four sending limits, with the relay's default for sessions per key. */
    public KeyLimits(Long messagesPerMinute, Long messagesPerDay, Long maxRecipients, Long maxMessageSize) {
        this(messagesPerMinute, messagesPerDay, maxRecipients, maxMessageSize, null);
    }

    /** One of the limits, with its wire name (JSON field, CLI and audit text) and its allowed range. */
    public enum Limit {
        MESSAGES_PER_MINUTE("messages_per_minute", 0, 1_000_000_000L, true),
        MESSAGES_PER_DAY("messages_per_day", 0, 1_000_000_000L, true),
        MAX_RECIPIENTS("max_recipients", 1, 100_000, false),
        MAX_MESSAGE_SIZE("max_message_size", 1024, Integer.MAX_VALUE, false),
        /** Concurrent authenticated SMTP sessions of the key (on each relay node); 0 = unlimited. */
        SESSIONS_PER_KEY("sessions_per_key", 0, 1_000_000, true);

        private final String wireName;
        private final long min;
        private final long max;
        private final boolean zeroUnlimited;

        Limit(String wireName, long min, long max, boolean zeroUnlimited) {
            this.wireName = wireName;
            this.min = min;
            this.max = max;
            this.zeroUnlimited = zeroUnlimited;
        }

        public String wireName() {
            return wireName;
        }

        /** True where 0 means unlimited: the two message rates and the sessions per key. */
        public boolean isRate() {
            return zeroUnlimited;
        }

        public Long get(KeyLimits l) {
            return of(l.messagesPerMinute, l.messagesPerDay, l.maxRecipients, l.maxMessageSize, l.sessionsPerKey);
        }

        /** A copy of {@code l} with this limit set to {@code value} (null: back to the relay's default). */
        public KeyLimits with(KeyLimits l, Long value) {
            Long m = l.messagesPerMinute;
            Long d = l.messagesPerDay;
            Long r = l.maxRecipients;
            Long s = l.maxMessageSize;
            Long k = l.sessionsPerKey;
            return switch (this) {
                case MESSAGES_PER_MINUTE -> new KeyLimits(value, d, r, s, k);
                case MESSAGES_PER_DAY -> new KeyLimits(m, value, r, s, k);
                case MAX_RECIPIENTS -> new KeyLimits(m, d, value, s, k);
                case MAX_MESSAGE_SIZE -> new KeyLimits(m, d, r, value, k);
                case SESSIONS_PER_KEY -> new KeyLimits(m, d, r, s, value);
            };
        }

        private Long of(Long perMinute, Long perDay, Long recipients, Long size, Long sessions) {
            return switch (this) {
                case MESSAGES_PER_MINUTE -> perMinute;
                case MESSAGES_PER_DAY -> perDay;
                case MAX_RECIPIENTS -> recipients;
                case MAX_MESSAGE_SIZE -> size;
                case SESSIONS_PER_KEY -> sessions;
            };
        }

        /** Returns {@code v} if it is null or in range; else throws naming this limit. */
        public Long validate(Long v) {
            if (v != null && (v < min || v > max)) {
                throw new KeyValidationException(wireName, wireName + " " + v + " is out of range (" + range() + ")");
            }
            return v;
        }

        private String range() {
            return min + " to " + max + (this == MAX_MESSAGE_SIZE ? " bytes" : "")
                    + (zeroUnlimited ? "; 0 = unlimited" : "");
        }

        /**
         * Parses a value as typed on the command line or in the console: empty or {@code default} (the relay's
         * default), a whole number, {@code unlimited} for the rates, and a size such as {@code 10MiB} for the
         * message size. Returns null for the default.
         */
        public Long parse(String text) {
            String t = text == null ? "" : Ascii.toLowerCase(text.strip());
            if (t.isEmpty() || t.equals("default")) {
                return null;
            }
            if (zeroUnlimited && t.equals("unlimited")) {
                return 0L;
            }
            long v;
            try {
                v = this == MAX_MESSAGE_SIZE ? Sizes.parse(t) : Ascii.parseLong(t);
            } catch (IllegalArgumentException e) {
                throw new KeyValidationException(wireName, "'" + text.strip() + "' is not "
                        + (this == MAX_MESSAGE_SIZE ? "a size (10485760, 512KiB, 10MiB)"
                        : "a whole number" + (zeroUnlimited ? " or \"unlimited\"" : "")));
            }
            return validate(v);
        }

        /** How a set value reads in listings and the audit trail: {@code 100}, {@code unlimited}, {@code 10MiB}. */
        public String format(long value) {
            if (zeroUnlimited && value == 0) {
                return "unlimited";
            }
            return this == MAX_MESSAGE_SIZE ? Sizes.format(value) : Long.toString(value);
        }
    }

    /** True when every limit is at the relay's default. */
    public boolean allDefault() {
        return equals(DEFAULTS);
    }

    /** {@code messages_per_minute=100 max_message_size=10MiB}: the limits that are set, for logs and audit. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Limit l : Limit.values()) {
            Long v = l.get(this);
            if (v != null) {
                b.append(b.isEmpty() ? "" : " ").append(l.wireName()).append('=').append(l.format(v));
            }
        }
        return b.toString();
    }
}
