package io.keyrelay.smtp;

import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/** Counts open sessions for the metrics, and is where connection-level admission decisions are made. */
final class SessionTracker implements SessionHandler {
    private final SmtpContext ctx;

    SessionTracker(SmtpContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public SessionAcceptance accept(Session session) {
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
        return SessionAcceptance.success();
    }

    @Override
    public void onSessionEnd(Session session) {
        ctx.metrics().sessionClosed();
    }
}
