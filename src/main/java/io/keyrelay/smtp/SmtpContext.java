package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.domains.SenderPolicy;
import io.keyrelay.keys.AuditQueue;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.limits.MessageLimiter;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.net.IpLiteral;
import io.keyrelay.queue.MessageQueue;
import io.keyrelay.relay.Downstream;
import java.net.InetAddress;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import org.subethamail.smtp.server.Session;

/**
 * What every SMTP command and transaction of this relay shares: the SMTP settings, the key authenticator, the
 * AUTH throttle, the downstream, the meters and the clock, the relay-wide "shutting down" flag, the per-key message
 * limiter, the audit trail's queue for failed AUTHs and policy refusals, this node's name ({@code cluster.node_name},
 * in the Received header), in queue mode ({@code relay.mode: queue}) the queue that DATA commits to ({@code queue}
 * is null in passthrough mode, where DATA goes to {@code downstream}), and the sender policy ({@code sending_domains.*},
 * DKIM signing; null: neither).
 */
public record SmtpContext(RelayConfig.Smtp config, KeyAuthenticator authenticator, AuthThrottle throttle,
        Downstream downstream, RelayMetrics metrics, Clock clock, AtomicBoolean draining, MessageLimiter limiter,
        AuditQueue audit, String nodeName, MessageQueue queue, SenderPolicy senders) {

    /** Passthrough mode without a sender policy: every message goes to the downstream during the transaction. */
    public SmtpContext(RelayConfig.Smtp config, KeyAuthenticator authenticator, AuthThrottle throttle,
            Downstream downstream, RelayMetrics metrics, Clock clock, AtomicBoolean draining, MessageLimiter limiter,
            AuditQueue audit, String nodeName) {
        this(config, authenticator, throttle, downstream, metrics, clock, draining, limiter, audit, nodeName, null, null);
    }

    /**
     * The sending limits for this session's key now: from the cached copy of the key (so a change of limits
     * reaches sessions that are already open), else from the copy taken at AUTH while the cache reloads the key in
     * the background. Never waits for the store.
     */
    SendingLimits limitsFor(RelayPrincipal principal) {
        return limiter.limitsFor(authenticator.lookup().peek(principal.key().keyHash()).orElse(principal.key()));
    }

    /** The sending limits of a key as it is now (from {@code KeyAuthenticator.recheck}). */
    SendingLimits limitsFor(ApiKey current) {
        return limiter.limitsFor(current);
    }

    /**
     * Counts, logs and audits a sender-policy refusal ({@code stage} {@code mail} or {@code data}), and returns the
     * reply line for the client.
     */
    String policyRefused(Session s, ApiKey key, SenderPolicy.Refusal r, String stage, String tx) {
        metrics.policyRefused(r.reason());
        InetAddress client = clientAddress(s);
        String detail = "reason=" + r.reason().wireName() + " stage=" + stage + " domain=" + r.domain() + " ("
                + r.detail() + ")";
        audit.offer(new io.keyrelay.keys.AuditEvent(null, clock.instant(), "smtp", "policy.refused", key.id(),
                key.shortKey(), client.getHostAddress(), detail));
        org.slf4j.LoggerFactory.getLogger(SmtpContext.class).info("sender refused: tx={} session={} key_id={}"
                + " short_key={} client={} {}", tx, s.getSessionId(), key.id(), key.shortKey(),
                client.getHostAddress(), io.keyrelay.text.LogText.quote(detail));
        return switch (r.reason()) {
            case NO_FROM -> SmtpReply.NO_PARSEABLE_FROM.line(r.detail());
            case UNREADABLE_SENDER -> SmtpReply.UNREADABLE_SENDER.line(r.detail());
            default -> SmtpReply.UNCONFIGURED_SENDING_DOMAIN.line(r.domain());
        };
    }

    /** The client's address as keyrelay judges it (the real client behind a trusted proxy), IPv4-mapped normalised. */
    static InetAddress clientAddress(Session s) {
        return IpLiteral.normalise(s.getRemoteAddress().getAddress());
    }

    /** True if AUTH may be used on this session now: encrypted, or plaintext allowed for this client. */
    boolean authAllowed(Session s) {
        if (s.isTLSStarted()) {
            return true;
        }
        return switch (config.auth().plaintext()) {
            case ALWAYS -> true;
            case LOOPBACK -> IpLiteral.isLoopback(clientAddress(s));
            case NEVER -> false;
        };
    }

    /** STARTTLS is offered when a certificate is configured and the session is neither encrypted nor authenticated. */
    boolean startTlsOffered(Session s) {
        return config.tls().enabled() && !s.isTLSStarted() && !s.isAuthenticated();
    }
}
