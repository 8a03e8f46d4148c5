package io.keyrelay.admin;

import io.javalin.http.Context;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.text.Ascii;
import io.keyrelay.text.LogText;
import jakarta.servlet.SessionTrackingMode;
import jakarta.servlet.http.HttpSession;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Set;
import org.eclipse.jetty.ee10.servlet.SessionHandler;
import org.eclipse.jetty.http.HttpCookie;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Console sign-in and server-side sessions. Jetty's session manager issues and tracks the session cookie
 * ({@value #COOKIE}: HttpOnly, SameSite=Strict, Secure over TLS, path {@code /console}, never in URLs); this
 * class decides what a session is worth. On every request the key it signed in with is checked again, so
 * revoking, expiring or re-restricting that key ends its sessions at once; a session also ends after
 * {@code admin.session_timeout} unused and {@link #MAX_AGE} in all, measured on the injected clock. Every
 * state-changing request must come from this origin and carry the session's CSRF token.
 */
final class ConsoleSessions {
    private static final Logger log = LoggerFactory.getLogger(ConsoleSessions.class);
    static final String COOKIE = "keyrelay_session";
    static final String CSRF_FIELD = "csrf";
    static final Duration MAX_AGE = Duration.ofHours(12);
    private static final String ATTRIBUTE = "keyrelay.console";
    private static final String SIGN_IN_SURFACE = "console";
    private static final String SESSION_SURFACE = "console_session";

    private final AdminAuth auth;
    private final Clock clock;
    private final Duration idleTimeout;
    private final SecureRandom random = new SecureRandom();

    /** A request's signed-in caller and their session. */
    record SignedIn(Caller caller, ConsoleSession session) {}

    ConsoleSessions(AdminAuth auth, Clock clock, Duration idleTimeout) {
        this.auth = auth;
        this.clock = clock;
        this.idleTimeout = idleTimeout;
    }

    /** Jetty's session manager, configured for the console. */
    SessionHandler jettySessionHandler() {
        SessionHandler h = new SessionHandler();
        h.setSessionCookie(COOKIE);
        h.setSessionPath(ConsoleRoutes.BASE);
        h.setHttpOnly(true);
        h.setSameSite(HttpCookie.SameSite.STRICT);
        h.setSecureRequestOnly(true); // the Secure attribute whenever the request came over TLS
        h.setSessionTrackingModes(Set.of(SessionTrackingMode.COOKIE)); // never ;jsessionid= in a URL
        // Jetty's own expiry only frees memory; the lifetime rules are checked in current() on our clock.
        h.setMaxInactiveInterval((int) Math.min(Integer.MAX_VALUE, idleTimeout.plusMinutes(1).toSeconds()));
        return h;
    }

    /**
     * Signs in with a key typed into the sign-in form: any earlier session of this browser is discarded and a new
     * one (new id, new CSRF token) begins, so a session id planted before sign-in is worth nothing after it.
     *
     * @throws ApiException when the key is refused (with the status to answer)
     */
    Caller signIn(Context ctx, String rawKey) {
        Caller caller = auth.check(SIGN_IN_SURFACE, rawKey, ClientAddress.of(ctx), Access.VIEW_KEYS);
        HttpSession old = ctx.req().getSession(false);
        if (old != null) {
            old.invalidate();
        }
        HttpSession session = ctx.req().getSession(true);
        session.setAttribute(ATTRIBUTE, new ConsoleSession(caller.key(), newToken(), clock.instant()));
        ApiKey k = caller.key();
        log.info("console sign-in: key_id={} short_key={} client={}", k.id(), k.shortKey(),
                ClientAddress.of(ctx).getHostAddress());
        return caller;
    }

    /**
     * The signed-in caller of this request.
     *
     * @throws SignInRequired when there is no session, it has run out, or its key no longer allows the console
     * @throws ApiException 503 when the key store cannot be asked (the session is kept)
     */
    SignedIn require(Context ctx) {
        HttpSession http = ctx.req().getSession(false);
        ConsoleSession session = http == null ? null : (ConsoleSession) http.getAttribute(ATTRIBUTE);
        if (session == null) {
            throw new SignInRequired(null);
        }
        Instant now = clock.instant();
        if (now.isAfter(session.lastSeen().plus(idleTimeout)) || now.isAfter(session.signedInAt().plus(MAX_AGE))) {
            http.invalidate();
            throw new SignInRequired("Your session expired. Sign in again.");
        }
        Caller caller;
        try {
            caller = auth.checkHash(SESSION_SURFACE, session.keyHash(), ClientAddress.of(ctx), Access.VIEW_KEYS);
        } catch (ApiException e) {
            if (e.error() == ApiError.UNAVAILABLE) {
                throw e;
            }
            http.invalidate();
            throw new SignInRequired("The key this session signed in with is no longer valid here. Sign in again.");
        }
        session.seen(now);
        return new SignedIn(caller, session);
    }

    /**
     * Checks a state-changing request: it must come from this server's own pages (Origin, when the browser sends
     * it) and carry the session's CSRF token.
     *
     * @throws ApiException 403 otherwise
     */
    void verifyForm(Context ctx, ConsoleSession session) {
        verifyOrigin(ctx);
        String sent = ctx.formParam(CSRF_FIELD);
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                session.csrfToken().getBytes(StandardCharsets.UTF_8))) {
            log.info("console request refused: missing or wrong CSRF token; client={}", ClientAddress.of(ctx)
                    .getHostAddress());
            throw ApiError.FORBIDDEN.with("This form has expired or did not come from this console. Go back, reload"
                    + " the page and try again.");
        }
    }

    /**
     * Refuses a form post that did not come from this console's own pages (SameSite=Strict already keeps the
     * cookie off a cross-site post; this also covers the sign-in form, posted before there is a session). Browsers
     * that send {@code Sec-Fetch-Site} are believed on it; otherwise {@code Origin}, when sent, must be ours.
     */
    void verifyOrigin(Context ctx) {
        String site = ctx.header("Sec-Fetch-Site");
        String origin = ctx.header("Origin");
        boolean ours = site != null ? site.equals("same-origin")
                : origin == null || Ascii.equalsIgnoreCase(origin, ctx.scheme() + "://" + ctx.host());
        if (!ours) {
            log.info("console request refused: cross-origin post (Sec-Fetch-Site={}, Origin={}); client={}",
                    LogText.quote(site), LogText.quote(origin), ClientAddress.of(ctx).getHostAddress());
            throw ApiError.FORBIDDEN.with("This form was sent from another site.");
        }
    }

    /** Ends this browser's session, if any. */
    void signOut(Context ctx) {
        HttpSession http = ctx.req().getSession(false);
        if (http != null) {
            http.invalidate();
        }
    }

    private String newToken() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
