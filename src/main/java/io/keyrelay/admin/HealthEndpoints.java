package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code /healthz} (liveness: the process answers HTTP) and {@code /readyz} (readiness: the checks given by the
 * caller pass, e.g. key store reachable and SMTP listening). Both are unauthenticated, for orchestrators and load
 * balancers, and say nothing secret: readiness failures carry only the check's reason.
 */
final class HealthEndpoints {
    private final Supplier<Optional<String>> readiness;

    HealthEndpoints(Supplier<Optional<String>> readiness) {
        this.readiness = readiness;
    }

    void register(RoutesConfig routes) {
        routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));
        routes.get("/readyz", this::ready);
    }

    private void ready(Context ctx) {
        Optional<String> notReady = readiness.get();
        if (notReady.isPresent()) {
            ctx.status(503).json(Map.of("status", "not ready", "reason", notReady.get()));
        } else {
            ctx.json(Map.of("status", "ready"));
        }
    }
}
