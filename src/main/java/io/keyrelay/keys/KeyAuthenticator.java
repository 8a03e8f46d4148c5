package io.keyrelay.keys;

import io.keyrelay.net.IpLiteral;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;

/**
 * Decides whether a presented key may do something: it exists, is not revoked, has not expired, holds the
 * required grant, and the client's address is inside its allowlist. Used by SMTP AUTH and by the admin API alike.
 *
 * <p>The hot path is one hash, one cache hit and a few field checks: no lock, no database query, and no
 * allocation beyond the hash string and the decision.
 */
public final class KeyAuthenticator {
    private final KeyHasher hasher;
    private final KeyLookup lookup;
    private final Clock clock;
    private final UsageRecorder usage;

    /** {@code usage} may be null (nothing recorded). */
    public KeyAuthenticator(KeyHasher hasher, KeyLookup lookup, Clock clock, UsageRecorder usage) {
        this.hasher = hasher;
        this.lookup = lookup;
        this.clock = clock;
        this.usage = usage;
    }

    /** Checks {@code rawKey} for {@code required} from {@code client}; records the use when accepted. */
    public AuthDecision authenticate(String rawKey, InetAddress client, Grant required) {
        if (!KeyGenerator.looksLikeKey(rawKey)) {
            // Not something this relay ever issued: refuse without a lookup (and without a negative cache entry).
            return new AuthDecision.Denied(AuthDecision.Reason.UNKNOWN, null);
        }
        return authenticateHash(hasher.hash(rawKey), client, required);
    }

    /**
     * Checks the key with this hash as {@link #authenticate} does. For callers that proved they held the key
     * earlier and kept only its hash (the admin console's server-side session), so the key itself is never kept.
     */
    public AuthDecision authenticateHash(String keyHash, InetAddress client, Grant required) {
        KeyLookup.Result r = lookup.find(keyHash);
        if (r instanceof KeyLookup.Result.Unavailable u) {
            return new AuthDecision.Unavailable(u.cause());
        }
        if (!(r instanceof KeyLookup.Result.Found found)) {
            return new AuthDecision.Denied(AuthDecision.Reason.UNKNOWN, null);
        }
        ApiKey key = found.key();
        Instant now = clock.instant();
        AuthDecision.Reason reason = check(key, client, required, now);
        if (reason != null) {
            return new AuthDecision.Denied(reason, key);
        }
        if (usage != null) {
            usage.record(key.id(), now, IpLiteral.normalise(client).getHostAddress());
        }
        return new AuthDecision.Accepted(key);
    }

    /**
     * Checks again, at the start of each message, a key that authenticated a session earlier: revoking it, letting
     * it expire, taking away the grant or the client's address take effect in open sessions too. Reads the cache
     * (the store only if the key was just changed and dropped from it); if the store cannot be asked, the session's
     * own copy stands, as a cached key would. Records no use.
     */
    public AuthDecision recheck(ApiKey sessionKey, InetAddress client, Grant required) {
        KeyLookup.Result r = lookup.find(sessionKey.keyHash());
        ApiKey current = switch (r) {
            case KeyLookup.Result.Found f -> f.key();
            case KeyLookup.Result.Missing m -> null;
            case KeyLookup.Result.Unavailable u -> sessionKey;
        };
        if (current == null) {
            return new AuthDecision.Denied(AuthDecision.Reason.UNKNOWN, sessionKey);
        }
        AuthDecision.Reason reason = check(current, client, required, clock.instant());
        return reason == null ? new AuthDecision.Accepted(current) : new AuthDecision.Denied(reason, current);
    }

    /** The first rule the key breaks, or null. */
    static AuthDecision.Reason check(ApiKey key, InetAddress client, Grant required, Instant now) {
        if (key.isRevoked()) {
            return AuthDecision.Reason.REVOKED;
        }
        if (key.isExpired(now)) {
            return AuthDecision.Reason.EXPIRED;
        }
        if (required != null && !key.has(required)) {
            return AuthDecision.Reason.MISSING_GRANT;
        }
        if (!key.validIps().allows(client)) {
            return AuthDecision.Reason.IP_NOT_ALLOWED;
        }
        return null;
    }

    public KeyLookup lookup() {
        return lookup;
    }
}
