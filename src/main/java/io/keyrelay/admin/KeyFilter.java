package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The console key list's filter ({@code ?status=}): every key, the active ones, those revoked, or those still
 * active that expire within {@link ConsoleRoutes#EXPIRING} (the ones to replace soon).
 */
enum KeyFilter {
    ALL("all", "All"),
    ACTIVE("active", "Active"),
    EXPIRING("expiring", "Expiring soon"),
    REVOKED("revoked", "Revoked");

    private final String param;
    private final String title;

    KeyFilter(String param, String title) {
        this.param = param;
        this.title = title;
    }

    /** The filter named by the query parameter; anything else (none, a typo) shows every key. */
    static KeyFilter of(String param) {
        return Arrays.stream(values()).filter(f -> f.param.equals(param)).findFirst().orElse(ALL);
    }

    boolean matches(ApiKey k, Instant now, Duration expiringWithin) {
        return switch (this) {
            case ALL -> true;
            case ACTIVE -> k.status(now).equals("active");
            case REVOKED -> k.isRevoked();
            case EXPIRING -> k.status(now).equals("active") && k.expiresAt() != null
                    && !k.expiresAt().isAfter(now.plus(expiringWithin));
        };
    }

    /** The filter links above the list, the current one marked. */
    static List<Map<String, Object>> links(KeyFilter current) {
        return Arrays.stream(values()).map(f -> Map.<String, Object>of("param", f.param, "title", f.title,
                "current", f == current, "href", f == ALL ? ConsoleRoutes.KEYS : ConsoleRoutes.KEYS + "?status=" + f.param))
                .toList();
    }
}
