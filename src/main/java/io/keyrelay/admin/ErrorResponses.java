package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.keyrelay.keys.KeyNotFoundException;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into one response: SparkPost's error body for the API and everything else outside the
 * console, an HTML page inside {@code /console}. Store outages are 503 (retry), validation errors 422 naming the
 * field, unexpected exceptions 500 with the details in the log only.
 */
final class ErrorResponses {
    private static final Logger log = LoggerFactory.getLogger(ErrorResponses.class);

    /** Renders an error page for the console. */
    interface HtmlErrors {
        void render(Context ctx, int status, String message);
    }

    private final HtmlErrors html;

    ErrorResponses(HtmlErrors html) {
        this.html = html;
    }

    void register(RoutesConfig routes) {
        routes.exception(ApiException.class, (e, ctx) -> respond(ctx, e.error(), e.description()));
        routes.exception(KeyValidationException.class, (e, ctx) -> respond(ctx,
                // A revoked key cannot be changed: a state conflict, not a malformed request.
                e.isConflict() ? ApiError.CONFLICT : ApiError.INVALID_DATA, withField(e.field(), e.getMessage())));
        routes.exception(io.keyrelay.domains.DomainException.class, (e, ctx) -> respond(ctx, switch (e.kind()) {
            case INVALID -> ApiError.INVALID_DATA;
            case NOT_FOUND -> ApiError.NOT_FOUND;
            case CONFLICT -> ApiError.CONFLICT;
            case NOT_CONFIGURED -> ApiError.UNAVAILABLE;
        }, withField(e.field(), e.getMessage())));
        routes.exception(KeyNotFoundException.class, (e, ctx) -> respond(ctx, ApiError.NOT_FOUND, e.getMessage()));
        routes.exception(StoreException.class, (e, ctx) -> {
            if (e.isInvalidData()) { // the store is up and said no to a value: the request's fault, not an outage
                log.warn("admin request {} {} refused by the key store: {}", ctx.method(), LogText.quote(ctx.path()),
                        LogText.quote(e.getMessage()));
                respond(ctx, ApiError.INVALID_DATA, "a value in the request does not fit the key store (SQLState "
                        + e.sqlState() + "); check the lengths and ranges of its fields");
                return;
            }
            log.warn("admin request {} {} failed: key store unavailable: {}", ctx.method(), LogText.quote(ctx.path()),
                    LogText.quote(e.getMessage()));
            respond(ctx, ApiError.UNAVAILABLE, "the key store cannot be reached; retry later");
        });
        routes.exception(HttpResponseException.class, (e, ctx) -> respond(ctx, fromStatus(e.getStatus()),
                describe(e, ctx)));
        routes.exception(Exception.class, (e, ctx) -> {
            log.error("admin request {} {} failed", ctx.method(), LogText.quote(ctx.path()), e);
            respond(ctx, ApiError.INTERNAL, "an unexpected error occurred; the server log has the details");
        });
    }

    private void respond(Context ctx, ApiError error, String description) {
        if (isConsole(ctx)) {
            html.render(ctx, error.status(), description);
            return;
        }
        ctx.status(error.status()).json(error.body(description));
    }

    static boolean isConsole(Context ctx) {
        String p = ctx.path();
        return p.equals(ConsoleRoutes.BASE) || p.startsWith(ConsoleRoutes.BASE + "/");
    }

    private static ApiError fromStatus(int status) {
        return switch (status) {
            case 404 -> ApiError.INVALID_URI;
            case 405 -> ApiError.METHOD_NOT_ALLOWED;
            case 413 -> ApiError.TOO_LARGE;
            case 415 -> ApiError.UNSUPPORTED_MEDIA_TYPE;
            case 503 -> ApiError.UNAVAILABLE;
            default -> status >= 500 ? ApiError.INTERNAL : ApiError.INVALID_PARAMS;
        };
    }

    private static String describe(HttpResponseException e, Context ctx) {
        return switch (e.getStatus()) {
            case 404 -> "no such resource: " + ctx.path();
            case 405 -> ctx.method() + " is not supported on " + ctx.path();
            case 413 -> "the request body is too large";
            default -> e.getMessage() == null ? "the request could not be handled" : e.getMessage();
        };
    }

    /** "label is required" already names its field; "unknown grant 'x'" gets "grants: " in front. */
    static String withField(String field, String message) {
        return message.startsWith(field) ? message : field + ": " + message;
    }
}
