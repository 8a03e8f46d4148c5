package io.keyrelay.admin;

import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.keys.KeyService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the admin server works with: the key service every change goes through, the authenticator that checks
 * callers' keys, the registry {@code /metrics} exposes, the readiness check behind {@code /readyz}, and the clock.
 *
 * @param readiness empty when this node can take traffic, else the reason it cannot (shown by {@code /readyz});
 *     see {@link Readiness} for composing one from several checks
 * @param clock used for what the admin server itself decides about time (key status in views, console session
 *     lifetimes)
 */
public record AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
        Supplier<Optional<String>> readiness, Clock clock) {
    public AdminContext {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(authenticator, "authenticator");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(clock, "clock");
    }
}
