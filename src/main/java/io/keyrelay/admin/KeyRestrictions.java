package io.keyrelay.admin;

import io.keyrelay.config.Sizes;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.SendingDomainPolicy;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyChangePolicy;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.text.Times;
import java.util.Objects;
import java.util.function.Function;

/**
 * No key can make a key — another one, or itself — less restricted than itself: what grants already had (a key
 * hands out only grants it holds), for every other restriction a key carries. Checked on the REST API and the
 * console for the calling key; the CLI (an operator on the server) is not bound.
 *
 * <p>Each restriction is compared as it takes effect — a limit left at the relay's default counts as that default —
 * and only where it is set on create, or changed on update: a caller may still relabel a key that was made looser
 * than itself by someone else, but may not loosen it further than itself. The rules:
 * <ul>
 *   <li>the sending limits ({@code messages_per_minute}, {@code messages_per_day}, {@code max_recipients},
 *       {@code max_message_size}, {@code sessions_per_key}): no higher than the caller's, unlimited only if the
 *       caller is;</li>
 *   <li>{@code expires_at}: a caller that expires may not create or set a later expiry, or none;</li>
 *   <li>{@code valid_ips}: a caller with allowed IPs may only set a list whose every block lies inside one of its
 *       own (CIDR containment), never an empty one (any address);</li>
 *   <li>{@code sending_domains}: a caller narrowed to some sending domains may only set a non-empty subset of
 *       them.</li>
 * </ul>
 * A refusal is a 403 naming the field. Restrictions that keys gain later (recipient domains) belong here as one
 * more check each: a list must be a subset of the caller's, when the caller has one.
 */
final class KeyRestrictions implements KeyChangePolicy {
    private final ApiKey caller;
    private final Function<ApiKey, SendingLimits> limits;

    /** The restrictions of {@code caller}; {@code limits} resolves a key's limits against the relay's defaults. */
    KeyRestrictions(ApiKey caller, Function<ApiKey, SendingLimits> limits) {
        this.caller = caller;
        this.limits = limits;
    }

    /**
     * The caller's restrictions, then (when the relay has sending domains) that a key's {@code sending_domains} be
     * domains of its own account ({@link SendingDomainPolicy}).
     */
    static KeyChangePolicy of(ApiKey caller, Function<ApiKey, SendingLimits> limits, DomainService domains) {
        KeyRestrictions own = new KeyRestrictions(caller, limits);
        return domains == null ? own : own.andThen(new SendingDomainPolicy(domains));
    }

    @Override
    public void check(ApiKey before, ApiKey after) {
        SendingLimits own = limits.apply(caller);
        SendingLimits asked = limits.apply(after);
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            if (before != null && Objects.equals(l.get(before.limits()), l.get(after.limits()))) {
                continue;
            }
            long mine = effective(l, own);
            long theirs = effective(l, asked);
            if (mine != 0 || !l.isRate()) {
                boolean looser = l.isRate() ? theirs == 0 || theirs > mine : theirs > mine;
                if (looser) {
                    throw refused(l.wireName(), "this API key's own " + l.wireName() + " is " + show(l, mine)
                            + ", so it cannot give a key (itself included) " + show(l, theirs));
                }
            }
        }
        if (caller.expiresAt() != null && (before == null || !Objects.equals(before.expiresAt(), after.expiresAt()))
                && (after.expiresAt() == null || after.expiresAt().isAfter(caller.expiresAt()))) {
            throw refused("expires_at", "this API key expires at " + Times.iso(caller.expiresAt())
                    + ", so it cannot give a key (itself included) " + (after.expiresAt() == null ? "no expiry"
                    : "a later expiry (" + Times.iso(after.expiresAt()) + ")"));
        }
        if (!caller.sendingDomains().isEmpty()
                && (before == null || !before.sendingDomains().equals(after.sendingDomains()))
                && (after.sendingDomains().isEmpty() || !caller.sendingDomains().containsAll(after.sendingDomains()))) {
            throw refused("sending_domains", "this API key may send as " + caller.sendingDomains()
                    + " only, so every entry must be one of those (asked: " + (after.sendingDomains().isEmpty()
                    ? "any sending domain" : after.sendingDomains()) + ")");
        }
        if ((before == null || !before.validIps().equals(after.validIps())) && !after.validIps().within(caller.validIps())) {
            throw refused("valid_ips", "this API key is limited to " + caller.validIps().asStrings()
                    + ", so every entry must lie inside one of those (asked: "
                    + (after.validIps().allowsAny() ? "any address" : after.validIps().asStrings()) + ")");
        }
    }

    private static long effective(KeyLimits.Limit l, SendingLimits s) {
        return switch (l) {
            case MESSAGES_PER_MINUTE -> s.messagesPerMinute();
            case MESSAGES_PER_DAY -> s.messagesPerDay();
            case MAX_RECIPIENTS -> s.maxRecipients();
            case MAX_MESSAGE_SIZE -> s.maxMessageSize();
            case SESSIONS_PER_KEY -> s.sessionsPerKey();
        };
    }

    private static String show(KeyLimits.Limit l, long v) {
        return l.isRate() && v == 0 ? "unlimited" : l == KeyLimits.Limit.MAX_MESSAGE_SIZE ? Sizes.format(v)
                : Long.toString(v);
    }

    private static ApiException refused(String field, String why) {
        return ApiError.FORBIDDEN.with(field + ": " + why);
    }
}
