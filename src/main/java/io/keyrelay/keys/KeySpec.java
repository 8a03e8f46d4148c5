package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * What a caller asks for when creating a key. {@code subaccountId} and {@code expiresAt} may be null; null
 * {@code limits} means the relay's defaults.
 */
public record KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt,
        KeyLimits limits) {
    public KeySpec {
        grants = Set.copyOf(grants);
        validIps = Objects.requireNonNullElse(validIps, IpAllowlist.ANY);
        limits = Objects.requireNonNullElse(limits, KeyLimits.DEFAULTS);
    }

    /** A key with the relay's default limits. */
    public KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt) {
        this(label, grants, validIps, subaccountId, expiresAt, KeyLimits.DEFAULTS);
    }
}
