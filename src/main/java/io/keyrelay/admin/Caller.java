package io.keyrelay.admin;

import io.keyrelay.keys.Actor;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import java.net.InetAddress;
import java.util.Set;

/**
 * An authenticated admin caller: the API key it presented (or signed in to the console with), and the address the
 * request came from, which the audit trail records with every change.
 */
record Caller(ApiKey key, InetAddress client) {
    boolean can(Access access) {
        return access.allows(key);
    }

    /** Who the audit trail and the change log name for what this caller does. */
    Actor actor() {
        return Actor.key(key, client);
    }

    /**
     * Refuses to hand out a grant this caller does not hold itself, so no key can mint a more powerful one.
     * Grants the key being changed already holds may stay.
     *
     * @throws ApiException 403 naming the grants
     */
    void requireCanHandOut(Set<Grant> requested, Set<Grant> alreadyHeld) {
        var missing = requested.stream()
                .filter(g -> !alreadyHeld.contains(g) && !key.has(g))
                .map(Grant::wireName)
                .sorted()
                .toList();
        if (!missing.isEmpty()) {
            throw ApiError.FORBIDDEN.with("grants: this API key cannot hand out " + String.join(", ", missing)
                    + ": a key can only give grants it holds itself");
        }
    }
}
