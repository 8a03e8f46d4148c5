package io.keyrelay.keys;

import io.keyrelay.text.Times;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The public shape of a key, as the CLI's {@code --json}, the REST API and the console show it (SparkPost's
 * field names). It never contains the secret or its hash; only {@link #created} adds the secret, once.
 */
public final class KeyViews {
    private KeyViews() {}

    public static Map<String, Object> view(ApiKey k, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("label", k.label());
        m.put("short_key", k.shortKey());
        m.put("grants", k.grantNames());
        m.put("valid_ips", k.validIps().asStrings());
        m.put("subaccount_id", k.subaccountId());
        m.put("created_at", str(k.createdAt()));
        m.put("updated_at", str(k.updatedAt()));
        m.put("last_used_at", str(k.lastUsedAt()));
        m.put("last_used_ip", k.lastUsedIp());
        m.put("expires_at", str(k.expiresAt()));
        m.put("revoked_at", str(k.revokedAt()));
        m.put("status", k.status(now));
        m.put("limits", limits(k.limits()));
        m.put("sending_domains", k.sendingDomains());
        return m;
    }

    /**
     * The key's own limits as {@code {"messages_per_minute":…, "messages_per_day":…, "max_recipients":…,
     * "max_message_size":…}}: a number, or null for the relay's default (0 = unlimited for the two rates).
     */
    public static Map<String, Object> limits(KeyLimits l) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (KeyLimits.Limit limit : KeyLimits.Limit.values()) {
            m.put(limit.wireName(), limit.get(l));
        }
        return m;
    }

    /** One audit event as {@code keyrelay audit list --json} shows it. */
    public static Map<String, Object> audit(AuditEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("at", str(e.at()));
        m.put("action", e.action());
        m.put("actor", e.actor());
        m.put("key_id", e.keyId());
        m.put("short_key", e.shortKey());
        m.put("client_address", e.clientAddress());
        m.put("detail", e.detail());
        return m;
    }

    /** The creation response: the key's fields plus {@code key}, the secret, right after {@code id}. */
    public static Map<String, Object> created(CreatedKey c, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.key().id());
        m.put("key", c.secret());
        view(c.key(), now).forEach((k, v) -> {
            if (!k.equals("id")) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static String str(Instant t) {
        return Times.iso(t);
    }
}
