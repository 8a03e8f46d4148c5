package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a signed-in console session remembers on the server: which key signed in (by id and hash, never the key
 * itself), the session's CSRF token, when it began and was last used, and for a moment the secret of a key it
 * just created, until the page that shows it once. The browser holds only the session cookie.
 */
final class ConsoleSession {
    private final String keyId;
    private final String keyHash;
    private final String csrfToken;
    private final Instant signedInAt;
    private volatile Instant lastSeen;
    /** New keys' secrets waiting for their one showing, by key id; see {@link #holdSecret}. */
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    private record Pending(String secret, Instant heldAt) {}

    /** How long a new key's secret waits for the page that shows it (the browser follows the redirect at once). */
    static final Duration SECRET_HOLD = Duration.ofMinutes(2);
    private static final int MAX_PENDING = 8;

    ConsoleSession(ApiKey key, String csrfToken, Instant now) {
        this.keyId = key.id();
        this.keyHash = key.keyHash();
        this.csrfToken = csrfToken;
        this.signedInAt = now;
        this.lastSeen = now;
    }

    String keyId() {
        return keyId;
    }

    String keyHash() {
        return keyHash;
    }

    String csrfToken() {
        return csrfToken;
    }

    Instant signedInAt() {
        return signedInAt;
    }

    Instant lastSeen() {
        return lastSeen;
    }

    void seen(Instant now) {
        lastSeen = now;
    }

    /**
     * Holds a new key's secret in server memory for the one page view that shows it: the form's POST answers with a
     * redirect (POST–redirect–GET), so neither a reload nor Back re-submits the form, and {@link #takeSecret} hands
     * the secret out once. Nothing is written anywhere; what is not taken within {@link #SECRET_HOLD} is dropped.
     */
    void holdSecret(String keyId, String secret, Instant now) {
        pending.values().removeIf(p -> now.isAfter(p.heldAt().plus(SECRET_HOLD)));
        if (pending.size() >= MAX_PENDING) {
            pending.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Pending::heldAt)))
                    .ifPresent(oldest -> pending.remove(oldest.getKey()));
        }
        pending.put(keyId, new Pending(secret, now));
    }

    /** The secret held for {@code keyId}, once: a second call (a reload, Back) gets nothing. */
    Optional<String> takeSecret(String keyId, Instant now) {
        Pending p = pending.remove(keyId);
        return p == null || now.isAfter(p.heldAt().plus(SECRET_HOLD)) ? Optional.empty() : Optional.of(p.secret());
    }

    @Override
    public String toString() {
        return "ConsoleSession[keyId=" + keyId + "]"; // hash and token left out: never worth logging
    }
}
