package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code /healthz} (liveness: the process answers HTTP) and {@code /readyz} (readiness: the checks given by the
 * caller pass, e.g. key store reachable and SMTP listening; {@code notes} lists what runs in a lesser way, such as
 * Redis away). Both are unauthenticated, for orchestrators and load
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
        java.util.List<String> notes = readiness instanceof Readiness.Report r ? r.notes() : java.util.List.of();
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("status", notReady.isPresent() ? "not ready" : "ready");
        notReady.ifPresent(reason -> body.put("reason", reason));
        if (!notes.isEmpty()) {
            body.put("notes", notes); // ready all the same: each one says what runs in a lesser way now
        }
        ctx.status(notReady.isPresent() ? 503 : 200).json(body);
    }
}
