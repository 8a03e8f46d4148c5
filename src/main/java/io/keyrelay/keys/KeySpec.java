package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/** What a caller asks for when creating a key. {@code subaccountId} and {@code expiresAt} may be null. */
public record KeySpec(String label, Set<Grant> grants, IpAllowlist validIps, Long subaccountId, Instant expiresAt) {
    public KeySpec {
        grants = Set.copyOf(grants);
        validIps = Objects.requireNonNullElse(validIps, IpAllowlist.ANY);
    }
}
