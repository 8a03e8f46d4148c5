package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A partial change to a key: an empty {@link Optional} leaves the field as it is. {@code expiresAt} holds an
 * {@code Optional<Instant>} inside, so "clear the expiry" ({@code Optional.of(Optional.empty())}) differs from
 * "leave it" ({@code Optional.empty()}). {@code limits} holds only the limits to change, each with its new value
 * or {@link Optional#empty()} for "back to the relay's default"; {@code sendingDomains}, when present, replaces the list.
 */
public record KeyUpdate(
        Optional<String> label,
        Optional<Set<Grant>> grants,
        Optional<IpAllowlist> validIps,
        Optional<Optional<Instant>> expiresAt,
        Map<KeyLimits.Limit, Optional<Long>> limits,
        Optional<java.util.List<String>> sendingDomains) {

    public KeyUpdate {
        limits = Map.copyOf(limits);
    }

    public static KeyUpdate none() {
        return new KeyUpdate(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(),
                Optional.empty());
    }

    public KeyUpdate withLabel(String v) {
        return new KeyUpdate(Optional.of(v), grants, validIps, expiresAt, limits, sendingDomains);
    }

    public KeyUpdate withGrants(Set<Grant> v) {
        return new KeyUpdate(label, Optional.of(Set.copyOf(v)), validIps, expiresAt, limits, sendingDomains);
    }

    public KeyUpdate withValidIps(IpAllowlist v) {
        return new KeyUpdate(label, grants, Optional.of(v), expiresAt, limits, sendingDomains);
    }

    public KeyUpdate withExpiresAt(Instant v) {
        return new KeyUpdate(label, grants, validIps, Optional.of(Optional.ofNullable(v)), limits, sendingDomains);
    }

    /** Replaces the key's sending domains (A-label domains; empty: any of its account's). */
    public KeyUpdate withSendingDomains(java.util.List<String> v) {
        return new KeyUpdate(label, grants, validIps, expiresAt, limits, Optional.of(java.util.List.copyOf(v)));
    }

    /** Sets one limit; {@code value} null puts it back to the relay's default. */
    public KeyUpdate withLimit(KeyLimits.Limit limit, Long value) {
        Map<KeyLimits.Limit, Optional<Long>> m = new EnumMap<>(KeyLimits.Limit.class);
        m.putAll(limits);
        m.put(limit, Optional.ofNullable(value));
        return new KeyUpdate(label, grants, validIps, expiresAt, m, sendingDomains);
    }

    /** Sets all four limits to exactly these values (nulls: the relay's defaults). */
    public KeyUpdate withLimits(KeyLimits all) {
        KeyUpdate u = this;
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            u = u.withLimit(l, l.get(all));
        }
        return u;
    }

    /** {@code current} with this update's limit changes applied. */
    public KeyLimits applyLimits(KeyLimits current) {
        KeyLimits out = current;
        for (Map.Entry<KeyLimits.Limit, Optional<Long>> e : limits.entrySet()) {
            out = e.getKey().with(out, e.getValue().orElse(null));
        }
        return out;
    }

    public boolean isEmpty() {
        return label.isEmpty() && grants.isEmpty() && validIps.isEmpty() && expiresAt.isEmpty() && limits.isEmpty()
                && sendingDomains.isEmpty();
    }
}
