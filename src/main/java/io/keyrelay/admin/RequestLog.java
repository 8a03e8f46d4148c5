package io.keyrelay.admin;

import io.javalin.http.Context;
import io.javalin.http.RequestLogger;
import io.javalin.router.Endpoint;
import io.keyrelay.text.LogText;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times and counts each admin request by route template, and logs it at DEBUG. The log line has the method,
 * path, status and duration only: never a header, a query string, a body or a cookie, any of which may carry a
 * key or a session.
 */
final class RequestLog implements RequestLogger {
    private static final Logger log = LoggerFactory.getLogger(RequestLog.class);

    private final AdminMeters meters;

    RequestLog(AdminMeters meters) {
        this.meters = meters;
    }

    @Override
    public void handle(Context ctx, Float executionTimeMs) {
        int status = ctx.statusCode();
        meters.request(ctx.method().name(), route(ctx), status, Duration.ofNanos((long) (executionTimeMs * 1_000_000)));
        log.debug("admin {} {} {} {}ms", ctx.method().name(), LogText.quote(ctx.path()), status,
                Math.round(executionTimeMs));
    }

    /** The matched route template ({@code /api/v1/api-keys/{id}}), so ids never become label values. */
    static String route(Context ctx) {
        Endpoint endpoint = ctx.endpoints().matchedHttpEndpoint();
        if (endpoint != null && !endpoint.path.isEmpty()) {
            return endpoint.path;
        }
        return ctx.path().startsWith(ConsoleRoutes.ASSETS + "/") ? ConsoleRoutes.ASSETS + "/*" : "unmatched";
    }
}
