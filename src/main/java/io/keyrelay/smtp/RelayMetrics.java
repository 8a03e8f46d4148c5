package io.keyrelay.smtp;

import io.keyrelay.keys.AuditQueue;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.KeyLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The relay's own meters. Every label takes a small fixed set of values (results, reasons, error kinds): never an
 * address, a username or a key. Counters are created up front so recording is a field read and an add.
 *
 * <pre>
 * keyrelay_smtp_sessions_active                      gauge
 * keyrelay_auth_attempts_total{result,reason}        result: accepted|denied|unavailable|encryption_required|throttled
 * keyrelay_auth_bans_total                           addresses refused for too many failed AUTHs
 * keyrelay_smtp_refused_total{reason}                connections refused at connect:
 *                                                    auth_ban|untrusted_proxy|proxy_header|shutting_down|
 *                                                    address_connections|address_rate
 * keyrelay_smtp_closed_total{reason}                 sessions closed for a limit: too_many_errors|command_timeout|
 *                                                    auth_timeout|transaction_timeout|data_timeout|key_sessions
 * keyrelay_messages_total{result}                    result: delivered|rejected|failed|too_large|aborted
 * keyrelay_relayed_bytes_total                       content bytes accepted by the downstream
 * keyrelay_relay_duration_seconds                    DATA start to final reply (histogram)
 * keyrelay_downstream_errors_total{kind}             kind: connect|tls|auth|io|timeout|pool|protocol
 * keyrelay_limit_refusals_total{limit}               limit: messages_per_minute|messages_per_day|max_recipients|
 *                                                           max_message_size
 * keyrelay_audit_events_dropped_total                failed-AUTH audit events dropped by a full queue
 * keyrelay_audit_queue_depth                         audit events waiting to be written (gauge)
 * </pre>
 */
public final class RelayMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger activeSessions = new AtomicInteger();
    private final Counter authAccepted;
    private final Counter authUnavailable;
    private final Counter authEncryptionRequired;
    private final Counter authThrottled;
    private final Counter authBans;
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();
    private final Map<String, Counter> closed = new ConcurrentHashMap<>();
    private final Map<AuthDecision.Reason, Counter> authDenied = new EnumMap<>(AuthDecision.Reason.class);
    private final Map<String, Counter> messages = new ConcurrentHashMap<>();
    private final Map<String, Counter> downstreamErrors = new ConcurrentHashMap<>();
    private final Map<KeyLimits.Limit, Counter> limitRefusals = new EnumMap<>(KeyLimits.Limit.class);
    private final Map<String, Counter> policyRefusals = new ConcurrentHashMap<>();
    private final Counter relayedBytes;
    private final Timer relayDuration;

    public RelayMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("keyrelay.smtp.sessions.active", activeSessions, AtomicInteger::get)
                .description("SMTP sessions open now").register(registry);
        authAccepted = auth("accepted", "none");
        authUnavailable = auth("unavailable", "store_unreachable");
        authEncryptionRequired = auth("encryption_required", "plaintext");
        authThrottled = auth("throttled", "auth_ban");
        authBans = Counter.builder("keyrelay.auth.bans")
                .description("Client addresses refused for too many failed AUTHs").register(registry);
        for (String r : new String[] {"auth_ban", "untrusted_proxy", "proxy_header", "shutting_down",
            "address_connections", "address_rate"}) {
            refused.put(r, Counter.builder("keyrelay.smtp.refused").tag("reason", r)
                    .description("SMTP connections refused before the greeting").register(registry));
        }
        for (AuthDecision.Reason r : AuthDecision.Reason.values()) {
            authDenied.put(r, auth("denied", r.wireName()));
        }
        for (String r : new String[] {"too_many_errors", "command_timeout", "auth_timeout", "transaction_timeout",
            "data_timeout", "key_sessions"}) {
            closed.put(r, Counter.builder("keyrelay.smtp.closed").tag("reason", r)
                    .description("SMTP sessions closed by the relay for a limit (421 4.7.0)").register(registry));
        }
        for (String r : new String[] {"delivered", "queued", "rejected", "failed", "too_large", "aborted", "refused"}) {
            messages.put(r, Counter.builder("keyrelay.messages").tag("result", r)
                    .description("Messages by outcome").register(registry));
        }
        for (String k : new String[] {"connect", "tls", "auth", "io", "timeout", "pool", "protocol"}) {
            downstreamErrors.put(k, Counter.builder("keyrelay.downstream.errors").tag("kind", k)
                    .description("Failures talking to the downstream MTA").register(registry));
        }
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            limitRefusals.put(l, Counter.builder("keyrelay.limit.refusals").tag("limit", l.wireName())
                    .description("Commands refused because a sending limit (the key's or the relay's) was reached")
                    .register(registry));
        }
        for (io.keyrelay.domains.SenderPolicy.Reason r : io.keyrelay.domains.SenderPolicy.Reason.values()) {
            policyRefusals.put(r.wireName(), Counter.builder("keyrelay.policy.refusals").tag("reason", r.wireName())
                    .description("Messages refused by the sender policy (sending_domains.require)").register(registry));
        }
        relayedBytes = Counter.builder("keyrelay.relayed.bytes").baseUnit("bytes")
                .description("Message bytes accepted by the downstream").register(registry);
        relayDuration = Timer.builder("keyrelay.relay.duration")
                .description("From DATA to the downstream's final reply")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
    }

    private Counter auth(String result, String reason) {
        return Counter.builder("keyrelay.auth.attempts").tag("result", result).tag("reason", reason)
                .description("SMTP AUTH attempts by result and reason").register(registry);
    }

    void policyRefused(io.keyrelay.domains.SenderPolicy.Reason reason) {
        policyRefusals.get(reason.wireName()).increment();
    }

    void sessionOpened() {
        activeSessions.incrementAndGet();
    }

    void sessionClosed() {
        activeSessions.decrementAndGet();
    }

    void authAccepted() {
        authAccepted.increment();
    }

    void authDenied(AuthDecision.Reason reason) {
        authDenied.get(reason).increment();
    }

    void authUnavailable() {
        authUnavailable.increment();
    }

    void authEncryptionRequired() {
        authEncryptionRequired.increment();
    }

    void authThrottled() {
        authThrottled.increment();
    }

    void authBanned() {
        authBans.increment();
    }

    void refused(String reason) {
        refused.get(reason).increment();
    }

    void closed(String reason) {
        closed.get(reason).increment();
    }

    void message(String result) {
        messages.get(result).increment();
    }

    void relayed(long bytes, long nanos) {
        relayedBytes.increment(bytes);
        relayDuration.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void downstreamError(String kind) {
        Counter c = downstreamErrors.get(kind);
        if (c != null) {
            c.increment();
        }
    }

    void limitReached(KeyLimits.Limit limit) {
        limitRefusals.get(limit).increment();
    }

    /** Exposes the audit queue's drops and depth. */
    public void watch(AuditQueue audit) {
        FunctionCounter.builder("keyrelay.audit.events.dropped", audit, AuditQueue::dropped)
                .description("Failed-AUTH audit events dropped because the audit queue was full").register(registry);
        Gauge.builder("keyrelay.audit.queue.depth", audit, AuditQueue::depth)
                .description("Audit events waiting to be written to the key store").register(registry);
    }

    /** Meters of this node's change notifications (PostgreSQL LISTEN/NOTIFY). */
    public void watch(io.keyrelay.store.ChangeListener changes) {
        Gauge.builder("keyrelay.change.listener.connected", changes, c -> c.connected() ? 1 : 0)
                .description("1 while change notifications from the store arrive, 0 while this node polls only")
                .register(registry);
        FunctionCounter.builder("keyrelay.change.notifications", changes, io.keyrelay.store.ChangeListener::received)
                .description("Change notices received from the store").register(registry);
        FunctionCounter.builder("keyrelay.change.listener.reconnects", changes,
                        io.keyrelay.store.ChangeListener::reconnects)
                .description("Times the change notification connection was lost").register(registry);
    }

    /** Meters of the shared Redis ({@code cluster.redis.url}). */
    public void watch(io.keyrelay.cluster.Redis redis) {
        Gauge.builder("keyrelay.redis.up", redis, r -> r.up() ? 1 : 0)
                .description("1 while the shared Redis answers, 0 while this node counts limits and AUTH failures alone")
                .register(registry);
        FunctionCounter.builder("keyrelay.redis.fallbacks", redis, io.keyrelay.cluster.Redis::fallbacks)
                .description("Counter operations done on this node because Redis was unreachable").register(registry);
        FunctionCounter.builder("keyrelay.redis.outages", redis, io.keyrelay.cluster.Redis::outages)
                .description("Times Redis became unreachable (or was at start)").register(registry);
    }

    /** Whether this node answers ban checks from the bans it has heard of, without asking Redis. */
    public void watch(io.keyrelay.cluster.RedisAuthFailures bans) {
        Gauge.builder("keyrelay.redis.ban.notices.current", bans, b -> b.noticesCurrent() ? 1 : 0)
                .description("1 while this node hears every ban announced through Redis and answers ban checks"
                        + " without a round trip, 0 while it asks Redis at each check").register(registry);
    }

    public int activeSessions() {
        return activeSessions.get();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
