package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.keyrelay.queue.MessageState;
import io.keyrelay.queue.QueueFilter;
import io.keyrelay.queue.QueueId;
import io.keyrelay.queue.QueueService;
import io.keyrelay.queue.QueueViews;
import io.keyrelay.queue.QueuedMessage;
import io.keyrelay.text.Ascii;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The queue API under {@code /api/v1/queue} (keyrelay's own; SparkPost has none): list with filters and paging
 * (SparkPost's {@code per_page} and {@code links.next}), counts by state, one message, and the operator's verbs
 * {@code retry}, {@code hold}, {@code release} and {@code DELETE}. Reads need {@code queue/view} or
 * {@code queue/manage}, changes {@code queue/manage}. Tenancy is the key API's ({@link KeyScope}): a subaccount's
 * key, or a primary key naming a subaccount in {@code X-MSYS-SUBACCOUNT}, sees and changes only that
 * subaccount's messages; others are treated as if they did not exist.
 */
final class QueueApi {
    static final String BASE = "/api/v1/queue";
    private static final String SURFACE = "api";
    private static final int DEFAULT_PER_PAGE = 100;

    private final QueueService queue;
    private final AdminAuth auth;

    QueueApi(QueueService queue, AdminAuth auth) {
        this.queue = queue;
        this.auth = auth;
    }

    void register(RoutesConfig routes) {
        routes.get(BASE, this::list);
        routes.get(BASE + "/counts", this::counts);
        routes.post(BASE + "/retry", this::retryAll);
        routes.get(BASE + "/{id}", this::retrieve);
        routes.delete(BASE + "/{id}", this::delete);
        routes.post(BASE + "/{id}/retry", ctx -> change(ctx, "retry"));
        routes.post(BASE + "/{id}/hold", ctx -> change(ctx, "hold"));
        routes.post(BASE + "/{id}/release", ctx -> change(ctx, "release"));
    }

    /**
     * {@code GET /api/v1/queue?state=&key_id=&search=&per_page=&cursor=}: the scope's messages, oldest first.
     * {@code links.next} (present when the page is full) fetches the next page with the same filters.
     */
    private void list(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_QUEUE);
        MessageState state = state(ctx.queryParam("state"));
        String keyId = blankToNull(ctx.queryParam("key_id"));
        String search = blankToNull(ctx.queryParam("search"));
        int perPage = perPage(ctx.queryParam("per_page"));
        String cursor = cursor(ctx.queryParam("cursor"));
        List<QueuedMessage> page = queue.list(new QueueFilter(state, keyId, scope.all() ? null : scope.subaccountId(),
                search, perPage, cursor));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("results", page.stream().map(QueueViews::summary).toList());
        Map<String, Object> links = new LinkedHashMap<>();
        if (page.size() == perPage) {
            StringBuilder next = new StringBuilder(BASE + "?per_page=" + perPage + "&cursor=" + page.getLast().id());
            if (state != null) {
                next.append("&state=").append(state.wireName());
            }
            if (keyId != null) {
                next.append("&key_id=").append(URLEncoder.encode(keyId, StandardCharsets.UTF_8));
            }
            if (search != null) {
                next.append("&search=").append(URLEncoder.encode(search, StandardCharsets.UTF_8));
            }
            links.put("next", next.toString());
        }
        body.put("links", links);
        ctx.json(body);
    }

    /** {@code GET /api/v1/queue/counts}: how many of the scope's messages are in each state, and the oldest. */
    private void counts(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_QUEUE);
        Long sub = scope.all() ? null : scope.subaccountId();
        ctx.json(Map.of("results", QueueViews.counts(queue.counts(sub), queue.oldestPending(sub).orElse(null))));
    }

    private void retrieve(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_QUEUE);
        ctx.json(Map.of("results", QueueViews.detail(visible(ctx, scope))));
    }

    private void delete(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_QUEUE);
        QueuedMessage m = visible(ctx, scopeOf(caller, ctx));
        outcome(m.id(), queue.delete(m.id(), caller.actor()), "delete");
        ctx.status(204);
    }

    private void change(Context ctx, String verb) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_QUEUE);
        QueuedMessage m = visible(ctx, scopeOf(caller, ctx));
        QueueService.Change c = switch (verb) {
            case "retry" -> queue.retry(m.id(), caller.actor());
            case "hold" -> queue.hold(m.id(), caller.actor());
            default -> queue.release(m.id(), caller.actor());
        };
        outcome(m.id(), c, verb);
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("id", m.id());
        results.put("state", queue.get(m.id()).map(q -> q.state().wireName()).orElse(null));
        ctx.json(Map.of("results", results));
    }

    /** {@code POST /api/v1/queue/retry}: every deferred message due now; the primary account's alone. */
    private void retryAll(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_QUEUE);
        if (!scopeOf(caller, ctx).all()) {
            throw ApiError.FORBIDDEN.with("retrying every deferred message is for a primary-account key naming no"
                    + " subaccount; retry a subaccount's messages one by one (POST " + BASE + "/{id}/retry)");
        }
        ctx.json(Map.of("results", Map.of("retried", queue.retryAll(caller.actor()))));
    }

    private void outcome(String id, QueueService.Change c, String verb) {
        switch (c) {
            case CHANGED -> { }
            case NOT_FOUND -> throw notFound(id);
            case NOT_APPLICABLE -> {
                String state = queue.get(id).map(q -> q.state().wireName()).orElseThrow(() -> notFound(id));
                throw ApiError.CONFLICT.with("state: message " + id + " is " + state + "; " + verb + " applies to "
                        + switch (verb) {
                            case "retry" -> "queued, deferred and failed messages";
                            case "hold" -> "queued and deferred messages";
                            case "release" -> "held messages";
                            default -> "every message";
                        });
            }
        }
    }

    /** The path's message if the scope may see it; else 404, as for one that does not exist. */
    private QueuedMessage visible(Context ctx, KeyScope scope) {
        String id = Ascii.toLowerCase(ctx.pathParam("id").strip());
        if (!QueueId.isValid(id)) {
            throw ApiError.NOT_FOUND.with("no queued message " + ctx.pathParam("id").strip()
                    + " (a queue id is a UUID, as in the 250 reply)");
        }
        QueuedMessage m = queue.get(id).orElseThrow(() -> notFound(id));
        if (!scope.all() && !Objects.equals(m.origin().subaccountId(), scope.subaccountId())) {
            throw notFound(id);
        }
        return m;
    }

    private static ApiException notFound(String id) {
        return ApiError.NOT_FOUND.with("no queued message " + id + " (a delivered message leaves the queue)");
    }

    private KeyScope scope(Context ctx, Access access) {
        return scopeOf(auth.fromRequest(SURFACE, ctx, access), ctx);
    }

    private static KeyScope scopeOf(Caller caller, Context ctx) {
        return KeyScope.of(caller, KeyScope.parseSubaccount(ctx.header(KeyScope.SUBACCOUNT_HEADER)));
    }

    static MessageState state(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        MessageState s = MessageState.of(text.strip().toLowerCase(Locale.ROOT));
        if (s == null) {
            throw ApiError.INVALID_PARAMS.with("state: '" + text.strip() + "' is not a queue state; the states are "
                    + QueueViews.stateNames());
        }
        return s;
    }

    private static int perPage(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_PER_PAGE;
        }
        long n = Ascii.parseDigits(Ascii.trim(text), 5);
        if (n < 1 || n > QueueFilter.MAX_LIMIT) {
            throw ApiError.INVALID_PARAMS.with("per_page: '" + text.strip() + "' is not a whole number from 1 to "
                    + QueueFilter.MAX_LIMIT);
        }
        return (int) n;
    }

    private static String cursor(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String id = Ascii.toLowerCase(text.strip());
        if (!QueueId.isValid(id)) {
            throw ApiError.INVALID_PARAMS.with("cursor: '" + text.strip() + "' is not a queue id (take it from"
                    + " links.next)");
        }
        return id;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
