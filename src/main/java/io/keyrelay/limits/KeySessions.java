package io.keyrelay.limits;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The authenticated SMTP sessions of each key open on this node, held to the key's {@code sessions_per_key}
 * ({@code limits.sessions_per_key} by default): one tenant's sessions, and so its mail transactions and the
 * downstream connections they take, cannot crowd out every other tenant's. An entry exists only while a key has
 * sessions open, so the map is bounded by {@code smtp.max_connections}. Per node, like the message counters.
 */
public final class KeySessions {
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    /** Takes a place for a session of {@code keyId} if it has fewer than {@code max} (0: no limit); true if taken. */
    public boolean open(String keyId, int max) {
        boolean[] taken = {false};
        open.compute(keyId, (k, n) -> {
            int now = n == null ? 0 : n;
            taken[0] = max == 0 || now < max;
            return taken[0] ? now + 1 : (n == null ? null : n);
        });
        return taken[0];
    }

    /** Gives back the place of a session of {@code keyId} taken by {@link #open}. */
    public void close(String keyId) {
        open.computeIfPresent(keyId, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Sessions of {@code keyId} open now. */
    public int openFor(String keyId) {
        return open.getOrDefault(keyId, 0);
    }
}
