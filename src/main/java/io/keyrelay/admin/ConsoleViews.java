package io.keyrelay.admin;

import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.text.LogText;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the console's templates show of a key: display strings only, never the secret or its hash. */
final class ConsoleViews {
    /** ISO 8601 in UTC to the second, as the CLI and the API print times. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DATE = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    private static final Map<KeyLimits.Limit, String> NAMES = Map.of(
            KeyLimits.Limit.MESSAGES_PER_MINUTE, "Messages per minute",
            KeyLimits.Limit.MESSAGES_PER_DAY, "Messages per day (UTC)",
            KeyLimits.Limit.MAX_RECIPIENTS, "Recipients per message",
            KeyLimits.Limit.MAX_MESSAGE_SIZE, "Largest message",
            KeyLimits.Limit.SESSIONS_PER_KEY, "Concurrent SMTP sessions");

    private ConsoleViews() {}

    static Map<String, Object> key(ApiKey k, Instant now) {
        return key(k, now, null);
    }

    /** With {@code effective} (the limits that apply), a limit left at the relay's default reads as its value. */
    static Map<String, Object> key(ApiKey k, Instant now, SendingLimits effective) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("label", LogText.visible(k.label())); // a bidi override stored before labels refused them shows as such
        m.put("shortKey", k.shortKey());
        m.put("grants", k.grantNames());
        m.put("validIps", k.validIps().allowsAny() ? List.of() : k.validIps().asStrings());
        m.put("anyIp", k.validIps().allowsAny());
        m.put("validIpsText", String.join("\n", k.validIps().asStrings()));
        m.put("subaccount", k.subaccountId() == null ? "Primary account" : "Subaccount " + k.subaccountId());
        m.put("created", TIME.format(k.createdAt()));
        m.put("updated", TIME.format(k.updatedAt()));
        m.put("lastUsed", k.lastUsedAt() == null ? "Never" : TIME.format(k.lastUsedAt()));
        m.put("lastUsedIp", k.lastUsedIp());
        m.put("expires", k.expiresAt() == null ? "Never" : TIME.format(k.expiresAt()));
        m.put("expiresDate", k.expiresAt() == null ? "" : DATE.format(k.expiresAt()));
        String status = k.status(now);
        m.put("status", status);
        m.put("active", status.equals("active"));
        m.put("revoked", k.isRevoked());
        m.put("limits", limits(k, effective));
        return m;
    }

    /**
     * The sending limits as {@code name}/{@code value} pairs; an unset one reads "Relay default", followed by the
     * value that applies when {@code effective} is known ("Relay default (100)").
     */
    private static List<Map<String, String>> limits(ApiKey k, SendingLimits effective) {
        List<Map<String, String>> out = new ArrayList<>();
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            Long v = l.get(k.limits());
            out.add(Map.of("name", NAMES.get(l), "value", v != null ? l.format(v)
                    : effective == null ? "Relay default" : "Relay default (" + l.format(effective(l, effective)) + ")"));
        }
        return out;
    }

    private static long effective(KeyLimits.Limit l, SendingLimits e) {
        return switch (l) {
            case MESSAGES_PER_MINUTE -> e.messagesPerMinute();
            case MESSAGES_PER_DAY -> e.messagesPerDay();
            case MAX_RECIPIENTS -> e.maxRecipients();
            case MAX_MESSAGE_SIZE -> e.maxMessageSize();
            case SESSIONS_PER_KEY -> e.sessionsPerKey();
        };
    }

    /**
     * The permission checkboxes, with {@code checked} ticked. A grant the signed-in key does not hold is shown
     * disabled ({@code grantable} false) unless the key being edited already has it: a key hands out only what it
     * holds.
     */
    static List<Map<String, Object>> grantChoices(Set<String> checked, ApiKey signedIn, Set<Grant> alreadyHeld) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Grant g : Grant.values()) {
            out.add(Map.of("name", g.wireName(), "description", g.description(), "checked", checked.contains(g.wireName()),
                    "grantable", signedIn.has(g) || alreadyHeld.contains(g), "slug", g.wireName().replace('/', '-')));
        }
        return out;
    }
}
