package io.keyrelay.cli;

import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.queue.MessageState;
import io.keyrelay.queue.QueueFilter;
import io.keyrelay.queue.QueueId;
import io.keyrelay.queue.QueueService;
import io.keyrelay.queue.QueueViews;
import io.keyrelay.queue.QueuedMessage;
import io.keyrelay.text.Times;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keyrelay queue …}: look into the durable queue and act on it with Postfix's verbs ({@code postqueue -p},
 * {@code -f}, {@code postsuper -h}, {@code -H}, {@code -d}). Every change is audited ({@code queue.*}).
 */
@Command(name = "queue", description = "List, show, retry, hold, release and delete queued messages.",
        subcommands = {QueueCommand.ListMessages.class, QueueCommand.Show.class, QueueCommand.Retry.class,
                QueueCommand.Hold.class, QueueCommand.Release.class, QueueCommand.Delete.class})
final class QueueCommand {
    private QueueCommand() {}

    /** A command that changes messages, and says what it did. */
    abstract static class Changing extends KeysCommand.KeyCommand {
        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;

        /** Prints what a change did; a message not found or in a state the change does not apply to is exit 1. */
        void report(Stores stores, String id, QueueService.Change change, String done, String text) {
            switch (change) {
                case CHANGED -> {
                    String now = stores.queue.get(id).map(q -> q.state().wireName()).orElse(null);
                    if (json) {
                        Map<String, Object> m = new java.util.LinkedHashMap<>();
                        m.put("id", id);
                        m.put(done, true);
                        m.put("state", now);
                        printJson(m);
                    } else {
                        out().println("Message " + id + " " + text + (now == null ? "." : " (" + now + ")."));
                    }
                }
                case NOT_FOUND -> throw new CliFailure("no queued message has id " + id
                        + " (delivered messages leave the queue)");
                case NOT_APPLICABLE -> throw new CliFailure(notApplicable(stores, id, done));
            }
        }
    }

    /** A command on one message given by its queue id. */
    abstract static class OneMessage extends Changing {
        @Parameters(paramLabel = "ID", description = "The queue id (from the 250 reply, the log or queue list).")
        String id;

        String checkedId() {
            return checkId(id);
        }
    }

    static String checkId(String id) {
        String s = id.strip().toLowerCase(java.util.Locale.ROOT);
        if (!QueueId.isValid(s)) {
            throw new KeyValidationException("id", "'" + id + "' is not a queue id (a UUID such as"
                    + " 0190f1f4-3c2a-7b6e-9d1c-2f0e4a5b6c7d, as in the 250 reply and queue list)");
        }
        return s;
    }

    static QueuedMessage find(Stores stores, String id) {
        return stores.queue.get(id).orElseThrow(() -> new CliFailure("no queued message has id " + id
                + " (delivered messages leave the queue)"));
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List queued messages, oldest first: id, state, accepted, size, attempts, sender, key.")
    static final class ListMessages extends KeysCommand.KeyCommand {
        @Option(names = "--state", paramLabel = "STATE",
                description = "Only messages in this state: queued, active, deferred, held or failed.")
        String state;

        @Option(names = "--key", paramLabel = "ID", description = "Only messages sent with this key (its id).")
        String keyId;

        @Option(names = "--subaccount", paramLabel = "N", description = "Only this subaccount's messages.")
        Long subaccount;

        @Option(names = "--search", paramLabel = "TEXT",
                description = "Only messages whose sender or a recipient contains TEXT (case-insensitive).")
        String search;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N messages (1 to 1000, default ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--after", paramLabel = "ID",
                description = "Start after this queue id (the last one of the previous page).")
        String after;

        @Option(names = "--json", description = "Print a JSON object: counts by state and the messages.")
        boolean json;

        @Override
        void run(Stores stores) {
            MessageState s = state == null ? null : state(state);
            if (limit < 1 || limit > QueueFilter.MAX_LIMIT) {
                throw new KeyValidationException("limit", "--limit: " + limit + " is out of range (1 to "
                        + QueueFilter.MAX_LIMIT + ")");
            }
            String from = after == null ? null : checkAfter(after);
            List<QueuedMessage> page = stores.queue.list(new QueueFilter(s, blankToNull(keyId), subaccount,
                    search, limit, from));
            if (json) {
                Map<String, Object> m = new java.util.LinkedHashMap<>(QueueViews.counts(stores.queue.counts(),
                        stores.queue.oldestPending().orElse(null)));
                m.put("messages", page.stream().map(QueueViews::summary).toList());
                printJson(m);
                return;
            }
            PrintWriter o = out();
            if (page.isEmpty()) {
                o.println(s == null && keyId == null && subaccount == null && search == null && after == null
                        ? "The queue is empty." : "No queued messages match.");
                return;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "STATE", "ACCEPTED", "SIZE", "TRIES", "SENDER", "KEY"});
            for (QueuedMessage q : page) {
                rows.add(new String[] {q.id(), q.state().wireName(), Times.iso(q.createdAt()), size(q.size()),
                        String.valueOf(q.attempts()), Table.wrap(sender(q.envelope().sender()), 24),
                        q.origin().shortKey() == null ? "-" : q.origin().shortKey()});
            }
            Table.print(o, rows);
            if (page.size() == limit) {
                o.println("(first " + limit + "; the next page: --after " + page.getLast().id() + ")");
            }
        }

        private static String checkAfter(String after) {
            String s = after.strip().toLowerCase(java.util.Locale.ROOT);
            if (!QueueId.isValid(s)) {
                throw new KeyValidationException("after", "--after: '" + after + "' is not a queue id");
            }
            return s;
        }
    }

    static MessageState state(String name) {
        MessageState s = MessageState.of(name.strip().toLowerCase(java.util.Locale.ROOT));
        if (s == null) {
            throw new KeyValidationException("state", "--state: '" + name + "' is not a queue state; the states"
                    + " are " + QueueViews.stateNames());
        }
        return s;
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show one message: envelope, each recipient's state and last reply, attempts, next"
                    + " attempt, key, subaccount, size.")
    static final class Show extends OneMessage {
        @Override
        void run(Stores stores) {
            QueuedMessage q = find(stores, checkedId());
            if (json) {
                printJson(QueueViews.detail(q));
                return;
            }
            PrintWriter o = out();
            o.println("id:            " + q.id());
            o.println("state:         " + q.state().wireName());
            o.println("sender:        " + sender(q.envelope().sender()));
            o.println("size:          " + q.size() + " bytes (" + size(q.size()) + ")");
            o.println("accepted:      " + Times.iso(q.createdAt()) + " by node " + q.origin().node() + " from "
                    + q.origin().clientAddress());
            o.println("key:           " + (q.origin().keyId() == null ? "none (keyrelay's own report)"
                    : q.origin().keyId() + " (" + q.origin().shortKey() + ")"));
            o.println("subaccount:    " + (q.origin().subaccountId() == null ? "none" : q.origin().subaccountId()));
            o.println("attempts:      " + q.attempts());
            o.println("next attempt:  " + next(q));
            o.println("last reply:    " + (q.lastReply() == null ? "-" : q.lastReply()));
            String params = params(q);
            if (!params.isEmpty()) {
                o.println("mail params:   " + params);
            }
            o.println("recipients:");
            List<String[]> rows = new ArrayList<>();
            for (QueuedMessage.RecipientStatus r : q.recipients()) {
                String dsn = (r.dsnNotify() == null ? "" : " NOTIFY=" + r.dsnNotify())
                        + (r.dsnOrcpt() == null ? "" : " ORCPT=" + r.dsnOrcpt());
                rows.add(new String[] {"  " + r.address() + dsn, r.state().wireName(),
                        r.lastReply() == null ? "-" : r.lastReply()});
            }
            Table.print(o, rows);
            if (q.attemptLog().isEmpty()) {
                o.println("attempt log:   none yet");
                return;
            }
            o.println("attempt log:");
            for (QueuedMessage.Attempt a : q.attemptLog()) {
                o.println("  #" + a.number() + "  " + Times.iso(a.startedAt()) + "  " + a.node() + "  delivered "
                        + a.delivered() + ", failed " + a.failed() + ", deferred " + a.deferred() + ": "
                        + a.summary());
            }
        }

        private static String next(QueuedMessage q) {
            return switch (q.state()) {
                case HELD -> "none while held (keyrelay queue release " + q.id() + ")";
                case FAILED -> "none: every recipient is settled (keyrelay queue retry " + q.id()
                        + " tries the failed ones again)";
                case ACTIVE -> "being delivered by " + q.leaseOwner() + ", lease until " + Times.iso(q.nextAttempt());
                default -> Times.iso(q.nextAttempt());
            };
        }

        private static String params(QueuedMessage q) {
            List<String> p = new ArrayList<>();
            if (q.envelope().params().declaredSize() > 0) {
                p.add("SIZE=" + q.envelope().params().declaredSize());
            }
            if (q.envelope().params().body() != null) {
                p.add("BODY=" + q.envelope().params().body());
            }
            if (q.envelope().params().smtpUtf8()) {
                p.add("SMTPUTF8");
            }
            if (q.envelope().dsnRet() != null) {
                p.add("RET=" + q.envelope().dsnRet());
            }
            if (q.envelope().dsnEnvid() != null) {
                p.add("ENVID=" + q.envelope().dsnEnvid());
            }
            return String.join(" ", p);
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Deliver now: a queued or deferred message is due at once; a failed one gets its failed"
                    + " recipients back. --all: every deferred message (postqueue -f).")
    static final class Retry extends Changing {
        @Parameters(paramLabel = "ID", arity = "0..1", description = "The queue id.")
        String id;

        @Option(names = "--all", description = "Every deferred message.")
        boolean all;

        @Override
        void run(Stores stores) {
            if (all == (id != null)) {
                throw new KeyValidationException("id", all ? "give a message ID or --all, not both"
                        : "missing ID (or --all for every deferred message)");
            }
            if (all) {
                int n = stores.queue.retryAll(actor());
                if (json) {
                    printJson(Map.of("retried", n));
                } else {
                    out().println(n == 0 ? "No deferred messages." : n + " deferred message" + (n == 1 ? " is" : "s are")
                            + " due now.");
                }
                return;
            }
            String qid = checkId(id);
            report(stores, qid, stores.queue.retry(qid, actor()), "retried", "is due now");
        }
    }

    @Command(name = "hold", mixinStandardHelpOptions = true,
            description = "Keep a queued or deferred message back from delivery until released (postsuper -h).")
    static final class Hold extends OneMessage {
        @Override
        void run(Stores stores) {
            String qid = checkedId();
            report(stores, qid, stores.queue.hold(qid, actor()), "held", "is held until released");
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Let a held message go: due now (postsuper -H).")
    static final class Release extends OneMessage {
        @Override
        void run(Stores stores) {
            String qid = checkedId();
            report(stores, qid, stores.queue.release(qid, actor()), "released", "is released and due now");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a message and its body for good, in any state, without a bounce (postsuper -d).")
    static final class Delete extends OneMessage {
        @Override
        void run(Stores stores) {
            String qid = checkedId();
            report(stores, qid, stores.queue.delete(qid, actor()), "deleted", "is deleted");
        }
    }

    /** Why a change does not apply to the message as it is now, and what does. */
    static String notApplicable(Stores stores, String id, String verb) {
        MessageState s = stores.queue.get(id).map(QueuedMessage::state).orElse(null);
        if (s == null) {
            return "no queued message has id " + id + " (delivered messages leave the queue)";
        }
        return "message " + id + " is " + s.wireName() + ": " + switch (s) {
            case ACTIVE -> "it is being delivered now; see 'queue show' for the outcome";
            case HELD -> verb.equals("held") ? "it is held already" : "release it first (keyrelay queue release "
                    + id + ")";
            case FAILED -> "only 'queue retry' or 'queue delete' apply to a failed message";
            case QUEUED, DEFERRED -> "it is not held";
        };
    }

    static String sender(String sender) {
        return sender.isEmpty() ? "<> (keyrelay's own report)" : "<" + sender + ">";
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return (bytes + 512) / 1024 + " KiB";
        }
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
