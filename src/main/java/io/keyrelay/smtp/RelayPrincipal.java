package io.keyrelay.smtp;

import io.keyrelay.keys.ApiKey;

/**
 * Who a session authenticated as: the key (id and short key for logs; never the secret), the AUTH username, and
 * the subaccount the messages are sent for (the one chosen with {@code X-MSYS-SUBACCOUNT=N}, else the key's own;
 * null for the primary account).
 */
public record RelayPrincipal(ApiKey key, String username, Long subaccountId) {
    @Override
    public String toString() {
        return "key " + key.id() + " (" + key.shortKey() + ")" + (subaccountId == null ? "" : " subaccount " + subaccountId);
    }
}
