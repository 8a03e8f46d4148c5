package io.keyrelay.smtp;

import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Where connection-level admission decisions are made (shutting down, address refused for failed AUTHs), and where
 * accepted sessions are counted for the metrics and recorded in {@link OpenSessions} for the graceful shutdown.
 */
final class SessionTracker implements SessionHandler {
    private final SmtpContext ctx;
    private final OpenSessions sessions;

    SessionTracker(SmtpContext ctx, OpenSessions sessions) {
        this.ctx = ctx;
        this.sessions = sessions;
    }

    @Override
    public SessionAcceptance accept(Session session) {
        if (GuardedSocket.tls(session) != null) {
            session.setTlsStarted(true); // the implicit-TLS port: the library only sees the guard's plain socket
        }
        if (ctx.draining().get()) {
            ctx.metrics().refused("shutting_down");
            return SessionAcceptance.failure(SmtpReply.SHUTTING_DOWN.code(), SmtpReply.SHUTTING_DOWN.text());
        }
        // The real client's address: a PROXY header, if any, has been read by now.
        if (ctx.throttle().isBanned(SmtpContext.clientAddress(session))) {
            ctx.metrics().refused("auth_ban");
            return SessionAcceptance.failure(SmtpReply.AUTH_THROTTLED.code(), SmtpReply.AUTH_THROTTLED.text());
        }
        ctx.metrics().sessionOpened();
        sessions.opened(session);
        return SessionAcceptance.success();
    }

    @Override
    public void onSessionEnd(Session session) {
        sessions.closed(session);
        ctx.metrics().sessionClosed();
    }
}
