package io.keyrelay.queue;

import java.util.Locale;

/**
 * Where a queued message stands, in the words a Postfix operator knows: {@code queued} (accepted, not yet tried),
 * {@code active} (a worker holds it under a lease), {@code deferred} (waiting for its next attempt), {@code held}
 * (kept back by an operator until released) and {@code failed} (every recipient settled, at least one failed;
 * kept so that it can be inspected, retried or deleted). A message whose every recipient was delivered leaves the
 * queue.
 */
public enum MessageState {
    QUEUED, ACTIVE, DEFERRED, HELD, FAILED;

    /** The name in the store, the CLI and the API: {@code deferred}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The state of a wire name, or null if there is none. */
    public static MessageState of(String wireName) {
        for (MessageState s : values()) {
            if (s.wireName().equals(wireName)) {
                return s;
            }
        }
        return null;
    }
}
