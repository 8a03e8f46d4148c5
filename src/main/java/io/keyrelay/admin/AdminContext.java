package io.keyrelay.admin;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.domains.DomainService;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.keys.KeyService;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.queue.QueueService;
import io.keyrelay.smtp.AuthThrottle;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the admin server works with: the key service every change goes through, the authenticator that checks
 * callers' keys, the registry {@code /metrics} exposes, the readiness check behind {@code /readyz}, and the clock.
 *
 * @param readiness empty when this node can take traffic, else the reason it cannot (shown by {@code /readyz});
 *     see {@link Readiness} for composing one from several checks
 * @param clock used for what the admin server itself decides about time (key status in views, console session
 *     lifetimes)
 * @param throttle failed authentications per client address, shared with SMTP AUTH (the same keys are guessed
 *     on either surface); null for none
 * @param limits a key's sending limits resolved against the relay's defaults, to hold the keys a caller makes
 *     to the caller's own ({@link KeyRestrictions}), and to show a limit left at "relay default" as its value
 * @param smtp where applications send mail, for the console's "API key created" page; null when unknown
 * @param domains the sending-domain service behind {@code /api/v1/sending-domains} and the console's page; null
 *     serves neither
 * @param queue the queue's admin service behind {@code /api/v1/queue} and the console's Queue page; null (in
 *     passthrough mode) serves neither
 */
public record AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
        Supplier<Optional<String>> readiness, Clock clock, AuthThrottle throttle,
        Function<ApiKey, SendingLimits> limits, SmtpEndpoint smtp, DomainService domains, QueueService queue) {
    /** Without the queue (passthrough mode). */
    public AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> readiness, Clock clock, AuthThrottle throttle,
            Function<ApiKey, SendingLimits> limits, SmtpEndpoint smtp, DomainService domains) {
        this(keys, authenticator, registry, readiness, clock, throttle, limits, smtp, domains, null);
    }

    /** Without the SMTP endpoint and sending domains (their API is not served). */
    public AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> readiness, Clock clock, AuthThrottle throttle,
            Function<ApiKey, SendingLimits> limits) {
        this(keys, authenticator, registry, readiness, clock, throttle, limits, null, null);
    }

    /** Without throttling of failed authentications (for tests that do not need it), and the default limits. */
    public AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> readiness, Clock clock) {
        this(keys, authenticator, registry, readiness, clock, null);
    }

    /** With the relay's default configuration's limits (for tests that do not configure any). */
    public AdminContext(KeyService keys, KeyAuthenticator authenticator, PrometheusMeterRegistry registry,
            Supplier<Optional<String>> readiness, Clock clock, AuthThrottle throttle) {
        this(keys, authenticator, registry, readiness, clock, throttle, defaultLimits());
    }

    private static Function<ApiKey, SendingLimits> defaultLimits() {
        RelayConfig defaults = ConfigLoader.build(new ConfigLoader.Raw(Map.of(), List.of()));
        return k -> SendingLimits.of(k.limits(), defaults.limits(), defaults.smtp());
    }

    /** This context with the SMTP endpoint the console names on a new key's page. */
    public AdminContext withSmtp(SmtpEndpoint endpoint) {
        return new AdminContext(keys, authenticator, registry, readiness, clock, throttle, limits, endpoint, domains,
                queue);
    }

    /** This context with the queue's admin service (null: none, as in passthrough mode). */
    public AdminContext withQueue(QueueService service) {
        return new AdminContext(keys, authenticator, registry, readiness, clock, throttle, limits, smtp, domains,
                service);
    }

    public AdminContext {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(authenticator, "authenticator");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(limits, "limits");
    }
}
