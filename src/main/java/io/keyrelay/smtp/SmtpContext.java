package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.net.IpLiteral;
import io.keyrelay.relay.Downstream;
import java.net.InetAddress;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import org.subethamail.smtp.server.Session;

/**
 * What every SMTP command and transaction of this relay shares: the SMTP settings, the key authenticator, the
 * AUTH throttle, the downstream, the meters and the clock, plus the relay-wide "shutting down" flag.
 */
public record SmtpContext(RelayConfig.Smtp config, KeyAuthenticator authenticator, AuthThrottle throttle,
        Downstream downstream, RelayMetrics metrics, Clock clock, AtomicBoolean draining) {

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
