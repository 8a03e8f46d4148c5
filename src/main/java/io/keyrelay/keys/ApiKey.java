package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A stored API key: everything but the secret itself, which exists only in the hands of whoever created it.
 *
 * <p>{@code keyHash} is the hex SHA-256 (or HMAC-SHA-256) of the secret; it is an internal lookup handle and is
 * never shown by any admin surface. Nullable fields: {@code subaccountId}, {@code lastUsedAt},
 * {@code lastUsedIp}, {@code expiresAt}, {@code revokedAt}. {@code limits} are the key's own sending limits
 * ({@link KeyLimits#DEFAULTS} when it has none). {@code sendingDomains} narrows the sending domains of its account that
 * it may send as (A-label domains, sorted; empty: any of them).
 */
public record ApiKey(
        String id,
        String label,
        String shortKey,
        String keyHash,
        Set<Grant> grants,
        IpAllowlist validIps,
        Long subaccountId,
        Instant createdAt,
        Instant updatedAt,
        Instant lastUsedAt,
        String lastUsedIp,
        Instant expiresAt,
        Instant revokedAt,
        KeyLimits limits,
        java.util.List<String> sendingDomains) {

    public ApiKey {
        sendingDomains = sendingDomains == null ? java.util.List.of()
                : sendingDomains.stream().distinct().sorted().toList();
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(shortKey, "shortKey");
        Objects.requireNonNull(keyHash, "keyHash");
        grants = Set.copyOf(grants);
        Objects.requireNonNull(validIps, "validIps");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        limits = Objects.requireNonNullElse(limits, KeyLimits.DEFAULTS);
    }

    /** A key that may send as any sending domain of its account. */
    public ApiKey(String id, String label, String shortKey, String keyHash, Set<Grant> grants, IpAllowlist validIps,
            Long subaccountId, Instant createdAt, Instant updatedAt, Instant lastUsedAt, String lastUsedIp,
            Instant expiresAt, Instant revokedAt, KeyLimits limits) {
        this(id, label, shortKey, keyHash, grants, validIps, subaccountId, createdAt, updatedAt, lastUsedAt, lastUsedIp,
                expiresAt, revokedAt, limits, java.util.List.of());
    }

    /** A key with the relay's default limits. */
    public ApiKey(String id, String label, String shortKey, String keyHash, Set<Grant> grants, IpAllowlist validIps,
            Long subaccountId, Instant createdAt, Instant updatedAt, Instant lastUsedAt, String lastUsedIp,
            Instant expiresAt, Instant revokedAt) {
        this(id, label, shortKey, keyHash, grants, validIps, subaccountId, createdAt, updatedAt, lastUsedAt, lastUsedIp,
                expiresAt, revokedAt, KeyLimits.DEFAULTS);
    }

    public boolean has(Grant grant) {
        return grants.contains(grant);
    }

    public boolean isRevoked() {
        return revokedAt != null;
    }

    public boolean isExpired(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }

    /** {@code active}, {@code revoked} or {@code expired}, as listings show it. */
    public String status(Instant now) {
        if (isRevoked()) {
            return "revoked";
        }
        return isExpired(now) ? "expired" : "active";
    }

    /** The grants sorted by name, for stable output. */
    public java.util.List<String> grantNames() {
        return grants.stream().map(Grant::wireName).sorted().toList();
    }

    @Override
    public String toString() {
        // keyHash left out on purpose: listings and logs never need it.
        return "ApiKey[id=" + id + ", label=" + label + ", shortKey=" + shortKey + ", grants=" + grantNames()
                + ", validIps=" + validIps.asStrings() + ", subaccountId=" + subaccountId
                + (limits.allDefault() ? "" : ", limits=" + limits.describe())
                + (sendingDomains.isEmpty() ? "" : ", sendingDomains=" + sendingDomains) + "]";
    }
}
