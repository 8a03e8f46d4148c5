package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * What a caller asks for when creating a key. {@code subaccountId} and {@code expiresAt} may be null; null
 * {@code limits} means the relay's defaults; an empty {@code sendingDomains} (A-label domains) means any sending domain of
 * the key's account.
 */
public record KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt,
        KeyLimits limits, java.util.List<String> sendingDomains) {
    public KeySpec {
        sendingDomains = sendingDomains == null ? java.util.List.of() : java.util.List.copyOf(sendingDomains);
        grants = Set.copyOf(grants);
        validIps = Objects.requireNonNullElse(validIps, IpAllowlist.ANY);
        limits = Objects.requireNonNullElse(limits, KeyLimits.DEFAULTS);
    }

    /** A key for any sending domain of its account. */
    public KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt,
            KeyLimits limits) {
        this(label, grants, validIps, subaccountId, expiresAt, limits, java.util.List.of());
    }

    /** A key with the relay's default limits. */
    public KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt) {
        this(label, grants, validIps, subaccountId, expiresAt, KeyLimits.DEFAULTS);
    }
}
