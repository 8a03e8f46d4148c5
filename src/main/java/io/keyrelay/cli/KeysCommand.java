package io.keyrelay.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.config.Durations;
import io.keyrelay.domains.SendingDomainPolicy;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.keys.KeyViews;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.text.Times;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyrelay keys …}: manage API keys in the store the relay uses. */
@Command(name = "keys", description = "Create, list, show, update and revoke API keys.",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Show.class,
                KeysCommand.Update.class, KeysCommand.Revoke.class})
final class KeysCommand {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Shared plumbing: output streams, JSON, the store. */
    abstract static class KeyCommand extends ConfigOption implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Override
        public final Integer call() {
            try (Stores stores = Stores.open(config())) {
                run(stores);
                return 0;
            }
        }

        abstract void run(Stores stores);

        /**
         * Who the audit trail names for this command: the operating system user who ran it (the one behind
         * {@code sudo} when there is one).
         */
        Actor actor() {
            String user = env().get("SUDO_USER");
            if (user == null || user.isBlank()) {
                user = env().get("USER");
            }
            return Actor.cli(user == null || user.isBlank() ? System.getProperty("user.name") : user);
        }

        void printJson(Object o) {
            try {
                out().println(JSON.writeValueAsString(o));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key and print it. The key is shown this one time only; only its hash is stored.")
    static final class Create extends KeyCommand {
        @Option(names = "--label", required = true, paramLabel = "LABEL", description = "Name of the key.")
        String label;

        @Option(names = "--grant", required = true, paramLabel = "GRANT",
                description = "Permission, repeatable or comma-separated: ${COMPLETION-CANDIDATES}",
                completionCandidates = GrantNames.class)
        List<String> grants;

        @Option(names = "--allowed-ip", paramLabel = "CIDR",
                description = "Source address or CIDR block allowed to use the key; repeatable. None: any address.")
        List<String> allowedIps = new ArrayList<>();

        @Option(names = "--subaccount", paramLabel = "N", description = "Subaccount the key belongs to.")
        Long subaccount;

        @Option(names = "--expires", paramLabel = "WHEN",
                description = "Expiry: ISO-8601 instant (2027-01-31T00:00:00Z), date (2027-01-31, midnight UTC),"
                        + " or a duration from now (30d, 12h).")
        String expires;

        @Mixin
        LimitOptions limits;

        @Option(names = "--sending-domain", paramLabel = "DOMAIN",
                description = "A sending domain of the key's account it may send as; repeatable or comma-separated."
                        + " None: any of them.")
        List<String> sendingDomains = new ArrayList<>();

        @Option(names = "--json", description = "Print one JSON object instead of text.")
        boolean json;

        @Override
        void run(Stores stores) {
            Instant now = stores.keyService.clock().instant();
            KeySpec spec = new KeySpec(label, Grant.parseAll(grants), allowlist(allowedIps), subaccount,
                    expires == null ? null : parseExpiry(expires, now), limits.toLimits(),
                    SendingDomainPolicy.normalise(sendingDomains));
            CreatedKey created = stores.keyService.create(spec, actor(), new SendingDomainPolicy(stores.domains));
            if (json) {
                Map<String, Object> all = KeyViews.created(created, now);
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                for (String k : List.of("id", "key", "short_key", "label", "grants", "valid_ips", "subaccount_id",
                        "expires_at", "limits", "sending_domains")) {
                    m.put(k, all.get(k));
                }
                printJson(m);
                return;
            }
            ApiKey k = created.key();
            PrintWriter o = out();
            o.println("API key created. Copy it now: it is shown this one time only and cannot be recovered.");
            o.println();
            o.println("  key:         " + created.secret());
            o.println("  id:          " + k.id());
            o.println("  short key:   " + k.shortKey());
            o.println("  label:       " + k.label());
            o.println("  grants:      " + String.join(", ", k.grantNames()));
            o.println("  allowed IPs: " + (k.validIps().allowsAny() ? "any" : String.join(", ", k.validIps().asStrings())));
            o.println("  subaccount:  " + (k.subaccountId() == null ? "none (primary account)" : k.subaccountId()));
            o.println("  expires:     " + (k.expiresAt() == null ? "never" : Times.iso(k.expiresAt())));
            o.println("  limits:      " + limitsText(k.limits()));
            o.println("  sends as:    " + (k.sendingDomains().isEmpty() ? "any sending domain of its account"
                    : String.join(", ", k.sendingDomains())));
            if (k.has(Grant.SMTP_INJECT)) {
                o.println();
                o.println("Send mail with SMTP AUTH: username SMTP_Injection, password = the key.");
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List keys (never the keys themselves: only their first four characters).")
    static final class ListKeys extends KeyCommand {
        @Option(names = "--subaccount", paramLabel = "N", description = "Only keys of this subaccount.")
        Long subaccount;

        @Option(names = "--json", description = "Print a JSON array instead of a table.")
        boolean json;

        @Override
        void run(Stores stores) {
            Instant now = stores.keyService.clock().instant();
            List<ApiKey> keys = stores.keyService.list(subaccount, false);
            if (json) {
                printJson(keys.stream().map(k -> KeyViews.view(k, now)).toList());
                return;
            }
            if (keys.isEmpty()) {
                out().println("No API keys yet. Create one with: " + spec.root().name()
                        + " keys create --label NAME --grant smtp/inject");
                return;
            }
            // 120 columns: a long label and the grants wrap; allowed IPs, subaccount, expiry, limits are in `keys show`
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "SHORT", "LABEL", "GRANTS", "LAST USED", "STATUS"});
            for (ApiKey k : keys) {
                rows.add(new String[] {k.id(), k.shortKey(), Table.wrap(k.label(), LABEL_WIDTH),
                    String.join("\n", k.grantNames()), k.lastUsedAt() == null ? "never" : Times.iso(k.lastUsedAt()),
                    k.status(now)});
            }
            Table.print(out(), rows);
            out().println();
            out().println("Allowed IPs, subaccount, expiry and limits: " + spec.root().name() + " keys show ID"
                    + " (or keys list --json).");
        }

        private static final int LABEL_WIDTH = 16;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one key.")
    static final class Show extends KeyCommand {
        @Parameters(paramLabel = "ID", description = "The key's id.")
        String id;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        void run(Stores stores) {
            Instant now = stores.keyService.clock().instant();
            ApiKey k = stores.keyService.get(id);
            Map<String, Object> view = KeyViews.view(k, now);
            if (json) {
                printJson(view);
                return;
            }
            view.forEach((name, value) -> {
                if (!name.equals("limits")) {
                    out().printf("%-14s %s%n", name + ":", value instanceof List<?> l
                            ? String.join(", ", l.stream().map(String::valueOf).toList()) : value == null ? "-" : value);
                }
            });
            out().printf("%-14s %s%n", "limits:", limitsText(k.limits()));
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Change a key's label, grants, allowed IPs or expiry. The key itself never changes.")
    static final class Update extends KeyCommand {
        @Parameters(paramLabel = "ID", description = "The key's id.")
        String id;

        @Option(names = "--label", paramLabel = "LABEL", description = "New name.")
        String label;

        @Option(names = "--grant", paramLabel = "GRANT",
                description = "Replace the grants (repeatable or comma-separated): ${COMPLETION-CANDIDATES}",
                completionCandidates = GrantNames.class)
        List<String> grants;

        @ArgGroup(exclusive = true)
        IpChange ips;

        @ArgGroup(exclusive = true)
        ExpiryChange expiry;

        @ArgGroup(exclusive = true)
        DomainChange domains;

        static final class DomainChange {
            @Option(names = "--sending-domain", paramLabel = "DOMAIN",
                    description = "Replace the sending domains the key may send as; repeatable or comma-separated.")
            List<String> sendingDomains;

            @Option(names = "--clear-sending-domains", description = "Let the key send as any domain of its account.")
            boolean clear;
        }

        static final class IpChange {
            @Option(names = "--allowed-ip", paramLabel = "CIDR", description = "Replace the allowed IPs; repeatable.")
            List<String> allowedIps;

            @Option(names = "--clear-allowed-ips", description = "Allow any source address.")
            boolean clear;
        }

        static final class ExpiryChange {
            @Option(names = "--expires", paramLabel = "WHEN", description = "New expiry (as for create).")
            String expires;

            @Option(names = "--no-expiry", description = "Remove the expiry.")
            boolean never;
        }

        @Mixin
        LimitOptions limits;

        @Option(names = "--json", description = "Print the updated key as JSON.")
        boolean json;

        @Override
        void run(Stores stores) {
            Instant now = stores.keyService.clock().instant();
            KeyUpdate u = KeyUpdate.none();
            if (label != null) {
                u = u.withLabel(label);
            }
            if (grants != null) {
                u = u.withGrants(Grant.parseAll(grants));
            }
            if (ips != null) {
                u = u.withValidIps(ips.clear ? IpAllowlist.ANY : allowlist(ips.allowedIps));
            }
            if (expiry != null) {
                u = u.withExpiresAt(expiry.never ? null : parseExpiry(expiry.expires, now));
            }
            if (domains != null) {
                u = u.withSendingDomains(domains.clear ? List.of() : SendingDomainPolicy.normalise(domains.sendingDomains));
            }
            u = limits.applyTo(u);
            if (u.isEmpty()) {
                throw new KeyValidationException("update", "nothing to change: give --label, --grant, --allowed-ip,"
                        + " --clear-allowed-ips, --expires, --no-expiry, --sending-domain, --clear-sending-domains or"
                        + " a limit (--messages-per-minute …)");
            }
            ApiKey k = stores.keyService.update(id, u, actor(), new SendingDomainPolicy(stores.domains));
            if (json) {
                printJson(KeyViews.view(k, now));
            } else {
                out().println("Updated API key " + k.id() + " (" + k.shortKey() + ", \"" + k.label() + "\").");
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a key: SMTP AUTH and API calls with it fail from now on (within about a second"
                    + " on every relay sharing the store).")
    static final class Revoke extends KeyCommand {
        @Parameters(paramLabel = "ID", description = "The key's id.")
        String id;

        @Override
        void run(Stores stores) {
            ApiKey k = stores.keyService.revoke(id, actor());
            out().println("Revoked API key " + k.id() + " (" + k.shortKey() + ", \"" + k.label() + "\") at "
                    + Times.iso(k.revokedAt()) + ".");
        }
    }

    /**
     * The per-key limit flags of {@code create} and {@code update}. Each takes a number (a size such as
     * {@code 10MiB} for the message size), {@code unlimited} (0) for the two rates and the sessions, or {@code default} for the
     * relay's configured default; a flag left out leaves that limit as it is.
     */
    static final class LimitOptions {
        @Option(names = "--messages-per-minute", paramLabel = "N",
                description = "Messages per minute (a burst of N, then one every 60/N s); unlimited; or default"
                        + " (limits.messages_per_minute).")
        String messagesPerMinute;

        @Option(names = "--messages-per-day", paramLabel = "N",
                description = "Messages per UTC day; unlimited; or default (limits.messages_per_day).")
        String messagesPerDay;

        @Option(names = "--max-recipients", paramLabel = "N",
                description = "Recipients per message; or default (smtp.max_recipients).")
        String maxRecipients;

        @Option(names = "--max-message-size", paramLabel = "SIZE",
                description = "Largest message, e.g. 10MiB (never above smtp.max_message_size); or default.")
        String maxMessageSize;

        @Option(names = "--sessions-per-key", paramLabel = "N",
                description = "Concurrent SMTP sessions of the key on each relay node; unlimited; or default"
                        + " (limits.sessions_per_key).")
        String sessionsPerKey;

        private String text(KeyLimits.Limit l) {
            return switch (l) {
                case MESSAGES_PER_MINUTE -> messagesPerMinute;
                case MESSAGES_PER_DAY -> messagesPerDay;
                case MAX_RECIPIENTS -> maxRecipients;
                case MAX_MESSAGE_SIZE -> maxMessageSize;
                case SESSIONS_PER_KEY -> sessionsPerKey;
            };
        }

        KeyLimits toLimits() {
            KeyLimits out = KeyLimits.DEFAULTS;
            for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
                if (text(l) != null) {
                    out = l.with(out, l.parse(text(l)));
                }
            }
            return out;
        }

        KeyUpdate applyTo(KeyUpdate u) {
            for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
                if (text(l) != null) {
                    u = u.withLimit(l, l.parse(text(l)));
                }
            }
            return u;
        }
    }

    /** {@code messages_per_minute=100, others default}, or {@code relay defaults}. */
    static String limitsText(KeyLimits l) {
        return l.allDefault() ? "relay defaults" : l.describe() + (Arrays.stream(KeyLimits.Limit.values())
                .allMatch(x -> x.get(l) != null) ? "" : " (others: relay defaults)");
    }

    static IpAllowlist allowlist(List<String> entries) {
        List<String> split = new ArrayList<>();
        for (String e : entries) {
            split.addAll(List.of(e.split("[,\\s]+")));
        }
        try {
            return IpAllowlist.parse(split);
        } catch (IllegalArgumentException e) {
            throw new KeyValidationException("valid_ips", e.getMessage());
        }
    }

    /** ISO-8601 instant or offset date-time, a date (midnight UTC), or a duration from now. */
    static Instant parseExpiry(String text, Instant now) {
        Instant at = parseInstant(text, now, false);
        if (at == null) {
            throw new KeyValidationException("expires_at", "'" + text + "' is not an ISO-8601 date-time"
                    + " (2027-01-31T00:00:00Z), a date (2027-01-31) or a duration (30d)");
        }
        if (!at.isAfter(now)) { // said here, in the user's own words, rather than as the instant it stands for
            throw new KeyValidationException("expires_at", text.strip() + " is in the past");
        }
        return at;
    }

    /**
     * An ISO-8601 instant or offset date-time, a date (midnight UTC), or a duration from {@code now} (ahead, or back
     * when {@code back}); null when the text is none of these.
     */
    static Instant parseInstant(String text, Instant now, boolean back) {
        String s = text.strip();
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            // try the next form
        }
        try {
            return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            // try the next form
        }
        try {
            Duration d = Durations.parse(s);
            return back ? now.minus(d) : now.plus(d);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Grant names for help and shell completion. */
    static final class GrantNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        GrantNames() {
            super(java.util.Arrays.stream(Grant.values()).map(Grant::wireName).toList());
        }
    }
}
