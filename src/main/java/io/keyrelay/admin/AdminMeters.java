package io.keyrelay.admin;

import io.keyrelay.keys.AuthDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The admin server's own meters. Every label takes a bounded set of values: the route is the matched route
 * template (never the raw path), the method one of HTTP's, the status a status code, the reason one of
 * {@link AuthDecision.Reason}'s names or a fixed word.
 */
final class AdminMeters {
    static final String REQUESTS = "keyrelay.admin.requests";
    static final String AUTH = "keyrelay.admin.auth";

    private final MeterRegistry registry;

    AdminMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Records one handled request ({@code keyrelay_admin_requests_seconds}). */
    void request(String method, String route, int status, Duration took) {
        Timer.builder(REQUESTS)
                .description("Admin HTTP requests (API, console, health, metrics) by route template and status")
                .tags("method", method, "route", route, "status", Integer.toString(status))
                .register(registry)
                .record(took);
    }

    /** Records one authentication of an admin caller ({@code keyrelay_admin_auth_total}). */
    void auth(String surface, String result, String reason) {
        Counter.builder(AUTH)
                .description("Admin API and console authentications by surface, result and reason")
                .tags("surface", surface, "result", result, "reason", reason)
                .register(registry)
                .increment();
    }

    void auth(String surface, AuthDecision decision) {
        switch (decision) {
            case AuthDecision.Accepted a -> auth(surface, "accepted", "none");
            case AuthDecision.Denied d -> auth(surface, "denied", d.reason().wireName());
            case AuthDecision.Unavailable u -> auth(surface, "unavailable", "store_unavailable");
        }
    }
}
