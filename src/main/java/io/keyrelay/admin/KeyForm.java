package io.keyrelay.admin;

import io.javalin.http.Context;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.text.Ascii;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The console's key form as submitted: name, permissions, subaccount, allowed IPs (one per line, or separated by
 * commas or spaces), an optional expiry date (midnight UTC) and the sending limits, concurrent sessions included
 * (empty: the relay's default), and the sending domains it may send as (empty: any of its account's). Kept as typed so a refused form is shown again as it was; each error names the field as the form
 * labels it.
 */
record KeyForm(String label, List<String> grants, String subaccount, String validIps, String expires,
        String messagesPerMinute, String messagesPerDay, String maxRecipients, String maxMessageSize,
        String sessionsPerKey, String sendingDomains) {
    /** The form's labels for the service's field names, so an error reads "Allowed IPs: …". */
    private static final Map<String, String> LABELS = Map.ofEntries(Map.entry("label", "Name"),
            Map.entry("grants", "Permissions"), Map.entry("valid_ips", "Allowed IPs"),
            Map.entry("subaccount_id", "Subaccount"), Map.entry("expires_at", "Expires"),
            Map.entry("messages_per_minute", "Messages per minute"), Map.entry("messages_per_day", "Messages per day"),
            Map.entry("max_recipients", "Recipients per message"), Map.entry("max_message_size", "Largest message"),
            Map.entry("sessions_per_key", "Concurrent SMTP sessions"), Map.entry("sending_domains", "Sending domains"));

    static KeyForm from(Context ctx) {
        return new KeyForm(text(ctx.formParam("label")), List.copyOf(ctx.formParams("grants")),
                text(ctx.formParam("subaccount")), text(ctx.formParam("valid_ips")), text(ctx.formParam("expires")),
                text(ctx.formParam("messages_per_minute")), text(ctx.formParam("messages_per_day")),
                text(ctx.formParam("max_recipients")), text(ctx.formParam("max_message_size")),
                text(ctx.formParam("sessions_per_key")), text(ctx.formParam("sending_domains")));
    }

    static KeyForm blank() {
        return new KeyForm("", List.of(), "", "", "", "", "", "", "", "", "");
    }

    static KeyForm of(ApiKey k, Map<String, Object> view) {
        return new KeyForm(k.label(), k.grantNames(), k.subaccountId() == null ? "" : k.subaccountId().toString(),
                (String) view.get("validIpsText"), (String) view.get("expiresDate"),
                limitText(k, KeyLimits.Limit.MESSAGES_PER_MINUTE), limitText(k, KeyLimits.Limit.MESSAGES_PER_DAY),
                limitText(k, KeyLimits.Limit.MAX_RECIPIENTS), limitText(k, KeyLimits.Limit.MAX_MESSAGE_SIZE),
                limitText(k, KeyLimits.Limit.SESSIONS_PER_KEY), String.join("\n", k.sendingDomains()));
    }

    private static String limitText(ApiKey k, KeyLimits.Limit l) {
        Long v = l.get(k.limits());
        return v == null ? "" : l.format(v);
    }

    /** The subaccount typed into the form, or null for none. */
    Long subaccountId() {
        if (subaccount.isEmpty()) {
            return null;
        }
        long id = Ascii.parseDigits(subaccount, 18); // 0-9 only: "+1" and other scripts' digits are no number
        if (id >= 0) {
            return id;
        }
        throw new KeyValidationException("subaccount_id", "'" + subaccount + "' is not a subaccount number");
    }

    KeySpec toSpec(Long subaccountId) {
        return new KeySpec(label, Grant.parseAll(grants), allowlist(), subaccountId, expiry(), limits(),
                domains());
    }

    /** The changes against {@code current}; an unchanged expiry date leaves the exact expiry instant alone. */
    KeyUpdate toUpdate(ApiKey current, String currentExpiryDate) {
        KeyUpdate u = KeyUpdate.none().withLabel(label).withGrants(Grant.parseAll(grants)).withValidIps(allowlist())
                .withLimits(limits()).withSendingDomains(domains());
        return expires.equals(currentExpiryDate) ? u : u.withExpiresAt(expiry());
    }

    /** The limits as typed: empty is the relay's default. */
    private KeyLimits limits() {
        return new KeyLimits(KeyLimits.Limit.MESSAGES_PER_MINUTE.parse(messagesPerMinute),
                KeyLimits.Limit.MESSAGES_PER_DAY.parse(messagesPerDay),
                KeyLimits.Limit.MAX_RECIPIENTS.parse(maxRecipients),
                KeyLimits.Limit.MAX_MESSAGE_SIZE.parse(maxMessageSize),
                KeyLimits.Limit.SESSIONS_PER_KEY.parse(sessionsPerKey));
    }

    Set<String> checkedGrants() {
        return new LinkedHashSet<>(grants);
    }

    /** An error message for the form: the field as labelled there, then what is wrong. */
    static String describe(KeyValidationException e) {
        String label = LABELS.getOrDefault(e.field(), e.field());
        return label + ": " + e.getMessage();
    }

    /** The sending domains typed, one per line (or separated by commas or spaces), in A-label form. */
    private List<String> domains() {
        return io.keyrelay.domains.SendingDomainPolicy.normalise(List.of(sendingDomains));
    }

    private IpAllowlist allowlist() {
        try {
            return IpAllowlist.parseText(validIps);
        } catch (IllegalArgumentException e) {
            throw new KeyValidationException("valid_ips", e.getMessage());
        }
    }

    private Instant expiry() {
        if (expires.isEmpty()) {
            return null;
        }
        try {
            return LocalDate.parse(expires).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            throw new KeyValidationException("expires_at", "'" + expires + "' is not a date (YYYY-MM-DD)");
        }
    }

    private static String text(String v) {
        return v == null ? "" : v.strip();
    }
}
