package io.keyrelay.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.net.IpAllowlist;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns the JSON bodies of {@code POST} and {@code PUT /api/v1/api-keys} into a {@link KeySpec} or
 * {@link KeyUpdate}. Fields: {@code label} (string), {@code grants} (array of grant names), {@code valid_ips}
 * (array of addresses and CIDR blocks; empty or null: any address), {@code subaccount_id} (create only) and
 * {@code expires_at} (ISO-8601 instant; null: never) and {@code limits} (an object with any of
 * {@code messages_per_minute}, {@code messages_per_day}, {@code max_recipients}, {@code max_message_size}: a whole
 * number, or null for the relay's default; 0 = unlimited for the two rates; on update, a limit left out stays as it
 * is). {@code label} and {@code grants} are required on update
 * too, as SparkPost requires them. Unknown fields are ignored, as SparkPost does. Each error names its field; the
 * rules that need no JSON knowledge (label length, grant names, allowlist syntax) stay in {@code KeyService} and
 * {@code IpAllowlist}, whose errors name the field too.
 */
final class KeyRequests {
    private KeyRequests() {}

    /** The key asked for; {@code subaccountId} is the body's {@code subaccount_id} (null when absent). */
    static KeySpec create(JsonNode body) {
        requireObject(body);
        String label = requiredLabel(body);
        Set<Grant> grants = requiredGrants(body);
        IpAllowlist ips = validIps(body);
        JsonNode expires = body.get("expires_at");
        KeyLimits limits = KeyLimits.DEFAULTS;
        JsonNode l = limits(body);
        if (l != null) {
            for (KeyLimits.Limit limit : KeyLimits.Limit.values()) {
                if (l.has(limit.wireName())) {
                    limits = limit.with(limits, limitValue(l, limit));
                }
            }
        }
        return new KeySpec(label, grants, ips == null ? IpAllowlist.ANY : ips, subaccount(body),
                expires == null ? null : instant(expires), limits, sendingDomains(body));
    }

    static KeyUpdate update(JsonNode body) {
        requireObject(body);
        KeyUpdate u = KeyUpdate.none().withLabel(requiredLabel(body)).withGrants(requiredGrants(body));
        if (body.has("valid_ips")) {
            IpAllowlist ips = validIps(body);
            u = u.withValidIps(ips == null ? IpAllowlist.ANY : ips);
        }
        if (body.has("sending_domains")) {
            u = u.withSendingDomains(sendingDomains(body));
        }
        if (body.has("expires_at")) {
            u = u.withExpiresAt(instant(body.get("expires_at")));
        }
        JsonNode l = limits(body);
        if (l != null) {
            for (KeyLimits.Limit limit : KeyLimits.Limit.values()) {
                if (l.has(limit.wireName())) {
                    u = u.withLimit(limit, limitValue(l, limit));
                }
            }
        }
        return u;
    }

    /** The {@code limits} object, or null when absent or null. */
    private static JsonNode limits(JsonNode body) {
        JsonNode v = body.get("limits");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiError.INVALID_DATA.with("limits: must be an object such as {\"messages_per_minute\": 100}");
        }
        return v;
    }

    /** One limit's value: a whole number in range, or null for the relay's default. */
    private static Long limitValue(JsonNode limits, KeyLimits.Limit limit) {
        JsonNode v = limits.get(limit.wireName());
        if (v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.INVALID_DATA.with(limit.wireName() + ": must be a whole number"
                    + (limit.isRate() ? " (0 = unlimited)" : "") + ", or null for the relay's default");
        }
        return limit.validate(v.asLong());
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiError.INVALID_PARAMS.with("the request body must be a JSON object");
        }
    }

    private static String requiredLabel(JsonNode body) {
        String label = string(body, "label");
        if (label == null) {
            throw ApiError.REQUIRED_FIELD.with("label: a name for the key is required");
        }
        return label;
    }

    private static Set<Grant> requiredGrants(JsonNode body) {
        Set<Grant> grants = grants(body);
        if (grants == null) {
            throw ApiError.REQUIRED_FIELD.with("grants: at least one grant is required; valid grants are: "
                    + Grant.allNames());
        }
        return grants;
    }

    private static Long subaccount(JsonNode body) {
        JsonNode v = body.get("subaccount_id");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw ApiError.INVALID_DATA.with("subaccount_id: must be a whole number, 0 or more");
        }
        return v.asLong();
    }

    private static String string(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.INVALID_DATA.with(field + ": must be a string");
        }
        return v.asText();
    }

    /** The grants, or null when the field is absent; present but empty is the service's error to name. */
    private static Set<Grant> grants(JsonNode body) {
        List<String> names = strings(body, "grants");
        return names == null ? null : Grant.parseAll(names);
    }

    /** {@code sending_domains}: an array of domain names in either IDN form; null or absent: none (any). */
    private static List<String> sendingDomains(JsonNode body) {
        List<String> entries = strings(body, "sending_domains");
        return entries == null ? List.of() : io.keyrelay.domains.SendingDomainPolicy.normalise(entries);
    }

    private static IpAllowlist validIps(JsonNode body) {
        List<String> entries = strings(body, "valid_ips");
        if (entries == null) {
            return null;
        }
        try {
            return IpAllowlist.parse(entries);
        } catch (IllegalArgumentException e) {
            throw new KeyValidationException("valid_ips", e.getMessage());
        }
    }

    private static List<String> strings(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiError.INVALID_DATA.with(field + ": must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw ApiError.INVALID_DATA.with(field + ": must be an array of strings, found " + item.getNodeType()
                        .name().toLowerCase(java.util.Locale.ROOT));
            }
            out.add(item.asText());
        }
        return out;
    }

    private static Instant instant(JsonNode v) {
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.INVALID_DATA.with("expires_at: must be an ISO-8601 instant such as 2027-01-31T00:00:00Z,"
                    + " or null");
        }
        try {
            return Instant.parse(v.asText().strip());
        } catch (DateTimeParseException e) {
            throw ApiError.INVALID_DATA.with("expires_at: '" + v.asText()
                    + "' is not an ISO-8601 instant such as 2027-01-31T00:00:00Z");
        }
    }
}
