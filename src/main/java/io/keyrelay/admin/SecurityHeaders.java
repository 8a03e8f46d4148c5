package io.keyrelay.admin;

import io.javalin.http.Context;
import io.javalin.http.Handler;

/**
 * Headers on every admin response. The console's pages load only their own stylesheet and script (no inline
 * code, nothing from elsewhere), may not be framed, and leak no URL to other sites through Referer; responses
 * are not cached, since they show keys and sessions. Over TLS, browsers are told to keep using it.
 */
final class SecurityHeaders implements Handler {
    static final String CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
            + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    @Override
    public void handle(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        // same-origin rather than no-referrer: with no-referrer, browsers send "Origin: null" on form posts.
        ctx.header("Referrer-Policy", "same-origin");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("Cache-Control", "no-store");
        if (ctx.req().isSecure()) {
            ctx.header("Strict-Transport-Security", "max-age=31536000");
        }
    }
}
