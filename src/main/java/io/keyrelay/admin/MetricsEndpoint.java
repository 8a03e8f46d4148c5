package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * {@code /metrics}: everything recorded in the registry, in the Prometheus text format. It needs a key with
 * {@code metrics/view}, sent as {@code Authorization: Bearer <key>} (Prometheus's {@code authorization}
 * scrape setting) or in any other form the API accepts.
 */
final class MetricsEndpoint {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String SURFACE = "metrics";

    private final PrometheusMeterRegistry registry;
    private final AdminAuth auth;

    MetricsEndpoint(PrometheusMeterRegistry registry, AdminAuth auth) {
        this.registry = registry;
        this.auth = auth;
    }

    void register(RoutesConfig routes) {
        routes.get("/metrics", this::scrape);
    }

    private void scrape(Context ctx) {
        auth.fromRequest(SURFACE, ctx, Access.VIEW_METRICS);
        ctx.contentType(CONTENT_TYPE).result(registry.scrape());
    }
}
