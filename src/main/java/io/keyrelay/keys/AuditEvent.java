package io.keyrelay.keys;

import java.time.Instant;

/**
 * One entry of the audit trail: a key created, updated or revoked, or an AUTH failure. Never holds a secret.
 * Nullable: {@code id} (before it is stored), {@code keyId}, {@code shortKey}, {@code clientAddress},
 * {@code detail}.
 */
public record AuditEvent(
        Long id, Instant at, String actor, String action, String keyId, String shortKey, String clientAddress,
        String detail) {

    public static final String KEY_CREATED = "key.created";
    public static final String KEY_UPDATED = "key.updated";
    public static final String KEY_REVOKED = "key.revoked";
    public static final String AUTH_FAILED = "auth.failed";
}
