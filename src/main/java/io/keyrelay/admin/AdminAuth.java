package io.keyrelay.admin;

import io.javalin.http.Context;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.smtp.AuthThrottle;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether an admin caller's key allows what it asks for, for the REST API and the console alike: the
 * key must pass {@link KeyAuthenticator} (exists, not revoked or expired, source address allowed) and hold a
 * grant for the {@link Access}. A refusal is an {@link ApiException}: 401 for a key that is not valid, 403 for
 * one that may not do this from here, 503 when the key store cannot be asked. The precise reason goes to the
 * log and to {@code keyrelay_admin_auth_total}, never to the caller.
 */
final class AdminAuth {
    private static final Logger log = LoggerFactory.getLogger(AdminAuth.class);

    private final KeyAuthenticator authenticator;
    private final AdminMeters meters;
    private final AuthThrottle throttle;

    /** {@code throttle} (may be null) counts failed authentications per address and refuses banned ones. */
    AdminAuth(KeyAuthenticator authenticator, AdminMeters meters, AuthThrottle throttle) {
        this.authenticator = authenticator;
        this.meters = meters;
        this.throttle = throttle;
    }

    /** Checks the key in the request's {@code Authorization} header (API and metrics callers). */
    Caller fromRequest(String surface, Context ctx, Access access) {
        String raw = ApiCredentials.fromHeader(ctx.header("Authorization")).orElseThrow(() -> missing(surface, access));
        return check(surface, raw, ClientAddress.of(ctx), access);
    }

    /** Checks a key presented in this request. */
    Caller check(String surface, String rawKey, InetAddress client, Access access) {
        refuseIfBanned(surface, client);
        // Grants are checked here rather than by the authenticator: "view" access is satisfied by either of two.
        return decide(surface, authenticator.authenticate(rawKey, client, null), rawKey, client, access);
    }

    /**
     * A client address that failed too often (here or at SMTP AUTH: {@code limits.auth_failures} within
     * {@code limits.auth_window}) is refused with 429 for {@code limits.auth_ban}, before its key is looked at.
     */
    private void refuseIfBanned(String surface, InetAddress client) {
        if (throttle == null) {
            return;
        }
        throttle.bannedUntil(client).ifPresent(until -> {
            meters.auth(surface, "denied", "throttled");
            throw ApiError.TOO_MANY_FAILURES.with("too many failed authentications from " + client.getHostAddress()
                    + "; try again after " + until.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        });
    }

    /** Checks the key a console session signed in with, known here only by its hash. */
    Caller checkHash(String surface, String keyHash, InetAddress client, Access access) {
        return decide(surface, authenticator.authenticateHash(keyHash, client, null), keyHash, client, access);
    }

    /** Counts and refuses a request that presented no key at all. */
    private ApiException missing(String surface, Access access) {
        meters.auth(surface, "denied", "no_credentials");
        return ApiError.UNAUTHORIZED.with("an API key with " + access.grantNames()
                + " is required in the Authorization header");
    }

    /** {@code secret} is what was presented (a key, or a session's key hash): the throttle counts it by fingerprint. */
    private Caller decide(String surface, AuthDecision decision, String secret, InetAddress client, Access access) {
        switch (decision) {
            case AuthDecision.Accepted a -> {
                if (!access.allows(a.key())) {
                    meters.auth(surface, "denied", AuthDecision.Reason.MISSING_GRANT.wireName());
                    refused(surface, AuthDecision.Reason.MISSING_GRANT.wireName(), a.key(), client);
                    throw ApiError.FORBIDDEN.with("this API key does not hold " + access.grantNames());
                }
                meters.auth(surface, decision);
                return new Caller(a.key(), client);
            }
            case AuthDecision.Denied d -> {
                meters.auth(surface, decision);
                refused(surface, d.reason().wireName(), d.key(), client);
                if (throttle != null) {
                    if (throttle.refused(client, secret, d.reason()) == AuthThrottle.Outcome.BANNED) {
                        log.warn("admin {}: client {} refused for {} after too many failed authentications", surface,
                                client.getHostAddress(), throttle.limits().ban());
                    }
                    throttle.pauseAfterFailure(); // limits.auth_delay; requests run on virtual threads
                }
                if (d.reason() == AuthDecision.Reason.IP_NOT_ALLOWED) {
                    throw ApiError.FORBIDDEN.with("this API key may not be used from " + client.getHostAddress());
                }
                throw ApiError.UNAUTHORIZED.with("the API key presented is not valid");
            }
            case AuthDecision.Unavailable u -> {
                meters.auth(surface, decision);
                log.warn("admin {} authentication unavailable: key store unreachable ({}); client={}", surface,
                        u.cause().getMessage(), client.getHostAddress());
                throw ApiError.UNAVAILABLE.with("the key store cannot be reached; retry later");
            }
        }
    }

    private static void refused(String surface, String reason, ApiKey key, InetAddress client) {
        log.info("admin {} authentication refused: reason={} key_id={} short_key={} client={}", surface, reason,
                key == null ? "-" : key.id(), key == null ? "-" : key.shortKey(), client.getHostAddress());
    }
}
