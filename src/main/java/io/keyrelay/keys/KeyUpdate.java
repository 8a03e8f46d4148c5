package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * A partial change to a key: an empty {@link Optional} leaves the field as it is. {@code expiresAt} holds an
 * {@code Optional<Instant>} inside, so "clear the expiry" ({@code Optional.of(Optional.empty())}) differs from
 * "leave it" ({@code Optional.empty()}).
 */
public record KeyUpdate(
        Optional<String> label,
        Optional<Set<Grant>> grants,
        Optional<IpAllowlist> validIps,
        Optional<Optional<Instant>> expiresAt) {

    public static KeyUpdate none() {
        return new KeyUpdate(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public KeyUpdate withLabel(String v) {
        return new KeyUpdate(Optional.of(v), grants, validIps, expiresAt);
    }

    public KeyUpdate withGrants(Set<Grant> v) {
        return new KeyUpdate(label, Optional.of(Set.copyOf(v)), validIps, expiresAt);
    }

    public KeyUpdate withValidIps(IpAllowlist v) {
        return new KeyUpdate(label, grants, Optional.of(v), expiresAt);
    }

    public KeyUpdate withExpiresAt(Instant v) {
        return new KeyUpdate(label, grants, validIps, Optional.of(Optional.ofNullable(v)));
    }

    public boolean isEmpty() {
        return label.isEmpty() && grants.isEmpty() && validIps.isEmpty() && expiresAt.isEmpty();
    }
}
