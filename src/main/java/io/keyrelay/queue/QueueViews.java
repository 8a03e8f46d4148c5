package io.keyrelay.queue;

import io.keyrelay.text.Times;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The public shape of a queued message, as the REST API ({@code /api/v1/queue}), the CLI's {@code --json} and the
 * console show it: snake_case fields, times ISO 8601 UTC to the second. A listing carries the summary; one
 * message adds its recipients (state, last reply, DSN parameters) and its attempts. Never the body: the queue
 * holds other people's mail, and the admin surfaces are for operating it, not for reading it.
 */
public final class QueueViews {
    private QueueViews() {}

    /** A message as listed: everything but its recipients and attempts. */
    public static Map<String, Object> summary(QueuedMessage q) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", q.id());
        m.put("state", q.state().wireName());
        m.put("sender", q.envelope().sender());
        m.put("size", q.size());
        m.put("attempts", q.attempts());
        m.put("next_attempt_at", q.state() == MessageState.HELD || q.state() == MessageState.FAILED
                ? null : Times.iso(q.nextAttempt()));
        m.put("last_reply", q.lastReply());
        m.put("key_id", q.origin().keyId());
        m.put("short_key", q.origin().shortKey());
        m.put("subaccount_id", q.origin().subaccountId());
        m.put("client_address", q.origin().clientAddress());
        m.put("node", q.origin().node());
        m.put("lease_owner", q.state() == MessageState.ACTIVE ? q.leaseOwner() : null);
        m.put("created_at", Times.iso(q.createdAt()));
        m.put("updated_at", Times.iso(q.updatedAt()));
        return m;
    }

    /** One message with its envelope parameters, each recipient and each attempt. */
    public static Map<String, Object> detail(QueuedMessage q) {
        Map<String, Object> m = summary(q);
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("declared_size", q.envelope().params().declaredSize());
        env.put("body", q.envelope().params().body());
        env.put("smtputf8", q.envelope().params().smtpUtf8());
        env.put("ret", q.envelope().dsnRet());
        env.put("envid", q.envelope().dsnEnvid());
        m.put("mail_parameters", env);
        m.put("recipients", q.recipients().stream().map(QueueViews::recipient).toList());
        m.put("attempt_log", q.attemptLog().stream().map(QueueViews::attempt).toList());
        return m;
    }

    /** Counts by state (every state, zero included) and when the oldest pending message was accepted. */
    public static Map<String, Object> counts(Map<MessageState, Long> counts, java.time.Instant oldestPending) {
        Map<String, Object> byState = new LinkedHashMap<>();
        long total = 0;
        for (Map.Entry<MessageState, Long> e : counts.entrySet()) {
            byState.put(e.getKey().wireName(), e.getValue());
            total += e.getValue();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", total);
        m.put("by_state", byState);
        m.put("oldest_pending_at", oldestPending == null ? null : Times.iso(oldestPending));
        return m;
    }

    static Map<String, Object> recipient(QueuedMessage.RecipientStatus r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", r.address());
        m.put("state", r.state().wireName());
        m.put("last_reply", r.lastReply());
        m.put("notify", r.dsnNotify());
        m.put("orcpt", r.dsnOrcpt());
        m.put("updated_at", Times.iso(r.updatedAt()));
        return m;
    }

    static Map<String, Object> attempt(QueuedMessage.Attempt a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attempt", a.number());
        m.put("node", a.node());
        m.put("started_at", Times.iso(a.startedAt()));
        m.put("finished_at", Times.iso(a.finishedAt()));
        m.put("delivered", a.delivered());
        m.put("failed", a.failed());
        m.put("deferred", a.deferred());
        m.put("summary", a.summary());
        return m;
    }

    /** The states by wire name, for error messages: {@code queued, active, deferred, held, failed}. */
    public static String stateNames() {
        return String.join(", ", List.of(MessageState.values()).stream().map(MessageState::wireName).toList());
    }
}
