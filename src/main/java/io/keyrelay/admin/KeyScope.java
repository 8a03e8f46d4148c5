package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyService;
import io.keyrelay.text.Ascii;
import java.util.List;
import java.util.Objects;

/**
 * Which keys a caller may see and change, following SparkPost's subaccounts: a key that belongs to a
 * subaccount manages only that subaccount's keys; a primary-account key manages every key, or one
 * subaccount's keys when it names one ({@code X-MSYS-SUBACCOUNT} in the API). Keys outside the scope are
 * treated as if they did not exist.
 *
 * @param all every key (a primary-account caller naming no subaccount)
 * @param subaccountId the one subaccount in scope when not {@code all}
 */
record KeyScope(boolean all, Long subaccountId) {
    static final String SUBACCOUNT_HEADER = "X-MSYS-SUBACCOUNT";

    /**
     * The scope of {@code caller} narrowed by the subaccount it names ({@code requested}, null for none).
     *
     * @throws ApiException 403 when a subaccount's key names another subaccount
     */
    static KeyScope of(Caller caller, Long requested) {
        Long own = caller.key().subaccountId();
        if (own != null) {
            if (requested != null && !requested.equals(own)) {
                throw ApiError.FORBIDDEN.with("this API key belongs to subaccount " + own
                        + " and cannot act for subaccount " + requested);
            }
            return new KeyScope(false, own);
        }
        return requested == null ? new KeyScope(true, null) : new KeyScope(false, requested);
    }

    /**
     * Parses the subaccount a request names; null when {@code text} is absent.
     *
     * @throws ApiException 400 naming the header when it is not a subaccount id
     */
    static Long parseSubaccount(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        long id = Ascii.parseDigits(Ascii.trim(text), 18); // 0-9 only: "+1" and "٣" are no subaccount id
        if (id >= 0) {
            return id;
        }
        throw ApiError.INVALID_PARAMS.with(SUBACCOUNT_HEADER + ": '" + text.strip()
                + "' is not a subaccount id (a whole number, 0 or more)");
    }

    boolean contains(ApiKey key) {
        return all || Objects.equals(key.subaccountId(), subaccountId);
    }

    List<ApiKey> list(KeyService keys) {
        return all ? keys.list() : keys.list(subaccountId, false);
    }

    /** The subaccount a key created in this scope belongs to (null: the primary account). */
    Long subaccountForNewKeys() {
        return all ? null : subaccountId;
    }
}
