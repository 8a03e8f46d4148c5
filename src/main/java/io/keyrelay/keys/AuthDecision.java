package io.keyrelay.keys;

/**
 * The outcome of checking a presented key: accepted (with the key), denied (with the precise reason, which goes
 * to logs and metrics and never to the client), or unavailable (the store could not be asked; the client should
 * retry). SMTP maps these to 235 / 535 / 454, the REST API to 2xx / 401 or 403 / 503.
 */
public sealed interface AuthDecision {

    /** Why a key was refused. {@link #wireName()} is the stable label used in logs and metrics. */
    enum Reason {
        UNKNOWN("unknown"),
        REVOKED("revoked"),
        EXPIRED("expired"),
        MISSING_GRANT("missing_grant"),
        IP_NOT_ALLOWED("ip_not_allowed"),
        BAD_USERNAME("bad_username"),
        SUBACCOUNT_MISMATCH("subaccount_mismatch"),
        /** AUTH PLAIN named an authorization identity other than the username (RFC 4616 proxy authorization). */
        AUTHZID_MISMATCH("authzid_mismatch");

        private final String wireName;

        Reason(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    record Accepted(ApiKey key) implements AuthDecision {}

    /** {@code key} is the matching stored key when there is one (null for {@link Reason#UNKNOWN}). */
    record Denied(Reason reason, ApiKey key) implements AuthDecision {}

    record Unavailable(RuntimeException cause) implements AuthDecision {}
}
