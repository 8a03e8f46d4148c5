package io.keyrelay.smtp;

import io.keyrelay.limits.KeySessions;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Where connection-level admission decisions are made — shutting down, the address refused for failed AUTHs, too
 * many connections from the address or too many new ones ({@link AddressLimits}) — and where accepted sessions are
 * counted for the metrics and recorded in {@link OpenSessions} for the graceful shutdown. SubEthaSMTP asks here
 * after the PROXY header, if any, has been read, so every decision is about the real client's address. A session's
 * end gives back what it held: its address's place, and its key's ({@link KeySessions}).
 */
final class SessionTracker implements SessionHandler {
    private static final Logger log = LoggerFactory.getLogger(SessionTracker.class);
    private final SmtpContext ctx;
    private final OpenSessions sessions;
    private final AddressLimits addresses;
    private final KeySessions keySessions;

    SessionTracker(SmtpContext ctx, OpenSessions sessions, AddressLimits addresses, KeySessions keySessions) {
        this.ctx = ctx;
        this.sessions = sessions;
        this.addresses = addresses;
        this.keySessions = keySessions;
    }

    @Override
    public SessionAcceptance accept(Session session) {
        if (GuardedSocket.tls(session) != null) {
            session.setTlsStarted(true); // the implicit-TLS port: the library only sees the guard's plain socket
        }
        if (ctx.draining().get()) {
            ctx.metrics().refused("shutting_down");
            return refuse(SmtpReply.SHUTTING_DOWN);
        }
        // The real client's address: a PROXY header, if any, has been read by now.
        InetAddress client = SmtpContext.clientAddress(session);
        if (ctx.throttle().isBanned(client)) {
            ctx.metrics().refused("auth_ban");
            return refuse(SmtpReply.AUTH_THROTTLED);
        }
        switch (addresses.connected(client)) {
            case TOO_FAST -> {
                ctx.metrics().refused("address_rate");
                log.info("refused a connection from {}: over smtp.max_connection_rate_per_ip",
                        client.getHostAddress());
                return refuse(SmtpReply.ADDRESS_RATE);
            }
            case TOO_MANY -> {
                ctx.metrics().refused("address_connections");
                log.info("refused a connection from {}: {} sessions open from there (smtp.max_connections_per_ip)",
                        client.getHostAddress(), addresses.openFrom(client));
                return refuse(SmtpReply.ADDRESS_CONNECTIONS);
            }
            case ACCEPTED -> { }
        }
        ctx.metrics().sessionOpened();
        sessions.opened(session);
        return SessionAcceptance.success();
    }

    private static SessionAcceptance refuse(SmtpReply reply) {
        return SessionAcceptance.failure(reply.code(), reply.text());
    }

    @Override
    public void onSessionEnd(Session session) {
        sessions.closed(session);
        addresses.closed(SmtpContext.clientAddress(session));
        RelayPrincipal principal = AuthCommand.principalOf(session);
        if (principal != null) {
            keySessions.close(principal.key().id());
        }
        ctx.metrics().sessionClosed();
    }
}
