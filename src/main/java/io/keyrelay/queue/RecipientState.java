package io.keyrelay.queue;

import java.util.Locale;

/** Where one recipient of a queued message stands: pending until delivered (2xx) or failed (5xx or expired). */
public enum RecipientState {
    PENDING, DELIVERED, FAILED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static RecipientState of(String wireName) {
        return valueOf(wireName.toUpperCase(Locale.ROOT));
    }
}
