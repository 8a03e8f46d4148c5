package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import java.time.Instant;

/**
 * What a signed-in console session remembers on the server: which key signed in (by id and hash, never the key
 * itself), the session's CSRF token, and when it began and was last used. The browser holds only the session
 * cookie.
 */
final class ConsoleSession {
    private final String keyId;
    private final String keyHash;
    private final String csrfToken;
    private final Instant signedInAt;
    private volatile Instant lastSeen;

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

    @Override
    public String toString() {
        return "ConsoleSession[keyId=" + keyId + "]"; // hash and token left out: never worth logging
    }
}
