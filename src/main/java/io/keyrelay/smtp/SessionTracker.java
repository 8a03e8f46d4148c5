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
            return SessionAcceptance.failure(SmtpReply.SHUTTING_DOWN.code(), SmtpReply.SHUTTING_DOWN.text());
        }
        ctx.metrics().sessionOpened();
        return SessionAcceptance.success();
    }

    @Override
    public void onSessionEnd(Session session) {
        ctx.metrics().sessionClosed();
    }
}
