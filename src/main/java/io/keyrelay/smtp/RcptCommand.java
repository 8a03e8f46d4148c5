package io.keyrelay.smtp;

import io.keyrelay.keys.KeyLimits;
import java.io.IOException;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * RCPT TO: relayed to the downstream at once, so the client hears the downstream's own answer for each recipient.
 * The key's {@code max_recipients} (by default {@code smtp.max_recipients}) accepted recipients are allowed per
 * message (452 after that, RFC 5321 section 4.5.3.1.10).
 */
final class RcptCommand extends Commands.Base {
    private final SmtpContext ctx;

    RcptCommand(SmtpContext ctx) {
        super("RCPT", "Specifies a recipient; repeat for more.", "TO:<recipient>");
        this.ctx = ctx;
    }

    @Override
    public void execute(String line, Session s) throws IOException, DropConnectionException {
        if (!inTransaction(s)) {
            return;
        }
        SmtpPath path = SmtpPath.parse(argument(line, 4), "TO:");
        if (path == null) {
            s.sendResponse("501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        if (!path.params().isEmpty()) {
            s.sendResponse("555 5.5.4 Unsupported RCPT TO parameter");
            return;
        }
        if (!path.isMailbox()) {
            reply(s, SmtpReply.BAD_RECIPIENT);
            return;
        }
        RelayTransaction tx = (RelayTransaction) s.getMessageHandler();
        if (!path.isAscii() && !tx.smtpUtf8()) {
            reply(s, SmtpReply.SMTPUTF8_REQUIRED);
            return;
        }
        if (tx.acceptedRecipients() >= tx.limits().maxRecipients()) {
            ctx.metrics().limitReached(KeyLimits.Limit.MAX_RECIPIENTS);
            reply(s, SmtpReply.TOO_MANY_RECIPIENTS);
            SessionBudget.of(s).recipientOvershoot();
            return;
        }
        try {
            String ok = tx.recipientAccepted(path.address());
            s.addRecipient(path.address());
            s.sendResponse(ok);
        } catch (RejectException e) {
            s.sendResponse(e.getErrorResponse());
        }
    }
}
