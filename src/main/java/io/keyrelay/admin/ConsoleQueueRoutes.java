package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.keyrelay.queue.MessageState;
import io.keyrelay.queue.QueueFilter;
import io.keyrelay.queue.QueueId;
import io.keyrelay.queue.QueueService;
import io.keyrelay.queue.QueuedMessage;
import io.keyrelay.text.Ascii;
import io.keyrelay.text.Times;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The console's Queue page under {@value #QUEUE}: counts by state and the oldest pending message, a list searched
 * by sender or recipient (a queue id typed into the search opens that message) and filtered by state, and each
 * message's page with its recipients and attempts and the Retry, Hold, Release and Delete buttons (each a POST
 * with the session's CSRF token, asking first). Reads need {@code queue/view} or {@code queue/manage}, changes
 * {@code queue/manage}; a subaccount's key sees only its subaccount's messages ({@link KeyScope}).
 */
final class ConsoleQueueRoutes {
    static final String QUEUE = ConsoleRoutes.BASE + "/queue";
    private static final int PAGE = 100;

    private final QueueService queue;
    private final ConsoleSessions sessions;
    private final ConsoleRoutes pages;

    ConsoleQueueRoutes(QueueService queue, ConsoleSessions sessions, ConsoleRoutes pages) {
        this.queue = queue;
        this.sessions = sessions;
        this.pages = pages;
    }

    void register(RoutesConfig routes) {
        routes.get(QUEUE, this::list);
        routes.get(QUEUE + "/{id}", this::show);
        for (String verb : List.of("retry", "hold", "release", "delete")) {
            routes.post(QUEUE + "/{id}/" + verb, ctx -> change(ctx, verb));
        }
    }

    private void list(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.VIEW_QUEUE);
        Long sub = subaccount(s);
        String search = Objects.requireNonNullElse(ctx.queryParam("q"), "").strip();
        String stateText = Objects.requireNonNullElse(ctx.queryParam("state"), "").strip();
        String lowered = Ascii.toLowerCase(search);
        if (QueueId.isValid(lowered)) {
            ctx.redirect(QUEUE + "/" + lowered, HttpStatus.SEE_OTHER);
            return;
        }
        MessageState state = stateText.isEmpty() ? null : MessageState.of(stateText);
        String error = !stateText.isEmpty() && state == null ? "State: '" + stateText + "' is not a queue state."
                : null;
        String after = ctx.queryParam("after");
        after = after != null && QueueId.isValid(after) ? after : null;
        List<QueuedMessage> found = queue.list(new QueueFilter(state, null, sub, search.isEmpty() ? null : search,
                PAGE, after));
        List<Map<String, Object>> counts = new ArrayList<>();
        long total = 0;
        for (Map.Entry<MessageState, Long> e : queue.counts(sub).entrySet()) {
            counts.add(Map.of("state", e.getKey().wireName(), "count", e.getValue(),
                    "selected", e.getKey() == state));
            total += e.getValue();
        }
        String oldest = queue.oldestPending(sub).map(Times::iso).orElse(null);
        String next = found.size() == PAGE ? QUEUE + "?after=" + found.getLast().id()
                + (state == null ? "" : "&state=" + state.wireName())
                + (search.isEmpty() ? "" : "&q=" + URLEncoder.encode(search, StandardCharsets.UTF_8)) : null;
        List<Map<String, Object>> rows = found.stream().map(ConsoleQueueRoutes::row).toList();
        String deleted = ctx.queryParam("deleted");
        String notice = deleted != null && QueueId.isValid(deleted) ? "Message " + deleted + " deleted." : null;
        pages.page(ctx, error == null ? 200 : 400, "queue", "Queue", s, ConsoleRoutes.model("messages", rows,
                "empty", rows.isEmpty(), "counts", counts, "total", total, "oldest", oldest, "search", search,
                "state", state == null ? "" : state.wireName(), "next", next, "error", error, "notice", notice,
                "filtered", state != null || !search.isEmpty() || after != null, "wide", true));
    }

    private void show(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.VIEW_QUEUE);
        QueuedMessage m = visible(ctx, s);
        String done = ctx.queryParam("done");
        String notice = done == null ? null : switch (done) {
            case "retry" -> "The message is due now.";
            case "hold" -> "The message is held until released.";
            case "release" -> "The message is released and due now.";
            default -> null;
        };
        messagePage(ctx, 200, s, m, notice, null);
    }

    private void change(Context ctx, String verb) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.MANAGE_QUEUE);
        sessions.verifyForm(ctx, s.session());
        QueuedMessage m = visible(ctx, s);
        QueueService.Change c = switch (verb) {
            case "retry" -> queue.retry(m.id(), s.caller().actor());
            case "hold" -> queue.hold(m.id(), s.caller().actor());
            case "release" -> queue.release(m.id(), s.caller().actor());
            default -> queue.delete(m.id(), s.caller().actor());
        };
        switch (c) {
            case CHANGED -> ctx.redirect(verb.equals("delete") ? QUEUE + "?deleted=" + m.id()
                    : QUEUE + "/" + m.id() + "?done=" + verb, HttpStatus.SEE_OTHER);
            case NOT_FOUND -> throw notFound(m.id());
            case NOT_APPLICABLE -> {
                QueuedMessage now = queue.get(m.id()).orElseThrow(() -> notFound(m.id()));
                messagePage(ctx, 409, s, now, null, "The message is " + now.state().wireName() + ": "
                        + verb + " does not apply to it now.");
            }
        }
    }

    private void messagePage(Context ctx, int status, ConsoleSessions.SignedIn s, QueuedMessage m, String notice,
            String error) {
        boolean manage = s.caller().can(Access.MANAGE_QUEUE);
        MessageState st = m.state();
        List<Map<String, Object>> rcpts = m.recipients().stream().map(r -> {
            Map<String, Object> x = new HashMap<>();
            x.put("address", r.address());
            x.put("state", r.state().wireName());
            x.put("reply", r.lastReply() == null ? "-" : r.lastReply());
            x.put("dsn", (r.dsnNotify() == null ? "" : "NOTIFY=" + r.dsnNotify())
                    + (r.dsnOrcpt() == null ? "" : " ORCPT=" + r.dsnOrcpt()));
            return x;
        }).toList();
        List<Map<String, Object>> attempts = m.attemptLog().stream().map(a -> Map.<String, Object>of(
                "number", a.number(), "node", a.node(), "started", Times.iso(a.startedAt()),
                "finished", Times.iso(a.finishedAt()), "delivered", a.delivered(), "failed", a.failed(),
                "deferred", a.deferred(), "summary", a.summary())).toList();
        Map<String, Object> view = row(m);
        view.put("client", m.origin().clientAddress());
        view.put("node", m.origin().node());
        view.put("keyId", m.origin().keyId());
        view.put("subaccount", m.origin().subaccountId() == null ? "Primary account"
                : "Subaccount " + m.origin().subaccountId());
        view.put("lastReply", m.lastReply());
        pages.page(ctx, status, "queue-message", "Message " + m.id(), s, ConsoleRoutes.model("message", view,
                "recipients", rcpts, "attempts", attempts, "hasAttempts", !attempts.isEmpty(),
                "notice", notice, "error", error, "wide", true,
                "canRetry", manage && (st == MessageState.QUEUED || st == MessageState.DEFERRED
                        || st == MessageState.FAILED),
                "canHold", manage && (st == MessageState.QUEUED || st == MessageState.DEFERRED),
                "canRelease", manage && st == MessageState.HELD,
                "canDelete", manage));
    }

    /** A message as the list and the message page show it. */
    private static Map<String, Object> row(QueuedMessage m) {
        Map<String, Object> x = new HashMap<>();
        x.put("id", m.id());
        x.put("path", QUEUE + "/" + m.id());
        x.put("state", m.state().wireName());
        x.put("sender", m.envelope().sender().isEmpty() ? "<> (bounce)" : m.envelope().sender());
        x.put("size", m.size());
        x.put("attempts", m.attempts());
        x.put("accepted", Times.iso(m.createdAt()));
        x.put("next", switch (m.state()) {
            case HELD -> "held";
            case FAILED -> "-";
            default -> Times.iso(m.nextAttempt());
        });
        x.put("shortKey", m.origin().shortKey() == null ? "-" : m.origin().shortKey());
        return x;
    }

    /** The signed-in key's subaccount, or null for a primary-account key (every message). */
    private static Long subaccount(ConsoleSessions.SignedIn s) {
        KeyScope scope = KeyScope.of(s.caller(), null);
        return scope.all() ? null : scope.subaccountId();
    }

    private QueuedMessage visible(Context ctx, ConsoleSessions.SignedIn s) {
        String id = Ascii.toLowerCase(ctx.pathParam("id").strip());
        if (!QueueId.isValid(id)) {
            throw ApiError.NOT_FOUND.with("No queued message " + ctx.pathParam("id").strip() + ".");
        }
        QueuedMessage m = queue.get(id).orElseThrow(() -> notFound(id));
        Long sub = subaccount(s);
        if (sub != null && !sub.equals(m.origin().subaccountId())) {
            throw notFound(id);
        }
        return m;
    }

    private static ApiException notFound(String id) {
        return ApiError.NOT_FOUND.with("No queued message " + id + " (a delivered message leaves the queue).");
    }

    private ConsoleSessions.SignedIn signedIn(Context ctx, Access access) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        if (!s.caller().can(access)) {
            throw ApiError.FORBIDDEN.with("The key you signed in with does not hold " + access.grantNames() + ".");
        }
        return s;
    }
}
