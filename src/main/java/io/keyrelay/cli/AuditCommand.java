package io.keyrelay.cli;

import io.keyrelay.domains.DomainService;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.text.Times;
import io.keyrelay.keys.KeyViews;
import io.keyrelay.queue.QueuePurge;
import io.keyrelay.queue.QueueService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keyrelay audit …}: read the audit trail (key changes and failed AUTHs). */
@Command(name = "audit", description = "Read the audit trail: keys created, updated and revoked, and failed AUTHs.",
        subcommands = {AuditCommand.ListEvents.class})
final class AuditCommand {
    private static final Set<String> ACTIONS = Set.of(AuditEvent.KEY_CREATED, AuditEvent.KEY_UPDATED,
            AuditEvent.KEY_REVOKED, AuditEvent.AUTH_FAILED, QueueService.RETRIED, QueueService.HELD,
            QueueService.RELEASED, QueueService.DELETED, QueuePurge.PURGED, DomainService.CREATED, DomainService.UPDATED,
            DomainService.DELETED, DomainService.CHECKED, DomainService.ROTATED);

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List audit events, newest first. Never shows a key: only ids and first four characters.")
    static final class ListEvents extends KeysCommand.KeyCommand {
        @Option(names = "--key", paramLabel = "ID", description = "Only events of this key.")
        String keyId;

        @Option(names = "--action", paramLabel = "ACTION",
                description = "Only this kind: key.created, key.updated, key.revoked, auth.failed, domain.created,"
                        + " domain.updated, domain.deleted, domain.checked, domain.dkim_rotated, queue.retried,"
                        + " queue.held, queue.released, queue.deleted or queue.purged.")
        String action;

        @Option(names = "--since", paramLabel = "WHEN",
                description = "Only events at or after WHEN: an ISO-8601 instant (2027-01-31T00:00:00Z), a date"
                        + " (midnight UTC), or a duration back from now (30m, 12h, 7d).")
        String since;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N events (default ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--json", description = "Print a JSON array instead of a table.")
        boolean json;

        @Override
        void run(Stores stores) {
            if (limit < 1 || limit > 100_000) {
                throw new KeyValidationException("limit", "--limit: " + limit + " is out of range (1 to 100000)");
            }
            if (action != null && !ACTIONS.contains(action)) {
                throw new KeyValidationException("action", "--action: '" + action + "' is not one of "
                        + String.join(", ", ACTIONS.stream().sorted().toList()));
            }
            Instant from = since == null ? null : parseSince(since, stores.keyService.clock().instant());
            List<AuditEvent> events = stores.keyService.audit(blankToNull(keyId), action, from, limit);
            if (json) {
                printJson(events.stream().map(KeyViews::audit).toList());
                return;
            }
            if (events.isEmpty()) {
                out().println("No audit events" + (keyId != null || action != null || since != null
                        ? " match." : " yet."));
                return;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"TIME", "ACTION", "ACTOR", "KEY", "SHORT", "CLIENT", "DETAIL"});
            for (AuditEvent e : events) {
                rows.add(new String[] {Times.iso(e.at()), e.action(), e.actor(), dash(e.keyId()), dash(e.shortKey()),
                    dash(e.clientAddress()), dash(e.detail())});
            }
            Table.print(out(), rows);
        }
    }

    /** ISO-8601 instant or offset date-time, a date (midnight UTC), or a duration back from {@code now}. */
    static Instant parseSince(String text, Instant now) {
        Instant at = KeysCommand.parseInstant(text, now, true);
        if (at == null) {
            throw new KeyValidationException("since", "--since: '" + text + "' is not an ISO-8601 date-time"
                    + " (2027-01-31T00:00:00Z), a date (2027-01-31) or a duration back from now (12h)");
        }
        return at;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
