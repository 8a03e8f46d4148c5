package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import java.util.List;

/** What a caller wants to do on the admin server, and the grants that allow it (any one of them suffices). */
enum Access {
    VIEW_KEYS(List.of(Grant.API_KEYS_VIEW, Grant.API_KEYS_MANAGE)),
    MANAGE_KEYS(List.of(Grant.API_KEYS_MANAGE)),
    VIEW_DOMAINS(List.of(Grant.SENDING_DOMAINS_VIEW, Grant.SENDING_DOMAINS_MANAGE)),
    MANAGE_DOMAINS(List.of(Grant.SENDING_DOMAINS_MANAGE)),
    VIEW_QUEUE(List.of(Grant.QUEUE_VIEW, Grant.QUEUE_MANAGE)),
    MANAGE_QUEUE(List.of(Grant.QUEUE_MANAGE)),
    VIEW_METRICS(List.of(Grant.METRICS_VIEW));

    private final List<Grant> grants;

    Access(List<Grant> grants) {
        this.grants = grants;
    }

    boolean allows(ApiKey key) {
        return grants.stream().anyMatch(key::has);
    }

    /** The grants as a caller reads them in an error: "api_keys/view or api_keys/manage". */
    String grantNames() {
        return String.join(" or ", grants.stream().map(Grant::wireName).toList());
    }
}
