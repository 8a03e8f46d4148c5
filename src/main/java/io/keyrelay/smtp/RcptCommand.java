package io.keyrelay.smtp;

import io.keyrelay.keys.KeyLimits;
import io.keyrelay.relay.RcptParams;
import io.keyrelay.text.Ascii;
import io.keyrelay.text.Xtext;
import java.io.IOException;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * RCPT TO, with the DSN parameters NOTIFY and ORCPT (RFC 3461; others are refused with 555): relayed to the
 * downstream at once in passthrough mode, so the client hears the downstream's own answer for each recipient.
 * The key's {@code max_recipients} (by default {@code smtp.max_recipients}) accepted recipients are allowed per
 * message (452 after that, RFC 5321 section 4.5.3.1.10).
 */
final class RcptCommand extends Commands.Base {
    private final SmtpContext ctx;

    RcptCommand(SmtpContext ctx) {
        super("RCPT", "Specifies a recipient; repeat for more.", "TO:<recipient>");
        this.ctx = ctx;
    }

    /**
     * The DSN parameters (RFC 3461 section 4.1, 4.2), validated: NOTIFY is NEVER alone or a set of SUCCESS,
     * FAILURE and DELAY; ORCPT is {@code addr-type;xtext}; neither repeated. Null if any parameter is bad or unknown.
     */
    static RcptParams dsnParams(SmtpPath path) {
        String notify = null;
        String orcpt = null;
        for (String p : path.params()) {
            switch (SmtpPath.keyword(p)) {
                case "NOTIFY" -> {
                    String v = SmtpPath.value(p, "NOTIFY");
                    if (notify != null || v == null || (notify = notify(v)) == null) {
                        return null;
                    }
                }
                case "ORCPT" -> {
                    String v = SmtpPath.value(p, "ORCPT");
                    int semi = v == null ? -1 : v.indexOf(';');
                    if (orcpt != null || semi < 1 || v.length() > 500 || !v.substring(0, semi).matches("[A-Za-z0-9-]+")
                            || !Xtext.isValid(v.substring(semi + 1))) {
                        return null;
                    }
                    orcpt = v;
                }
                default -> {
                    return null;
                }
            }
        }
        return notify == null && orcpt == null ? RcptParams.NONE : new RcptParams(notify, orcpt);
    }

    /** NOTIFY's value in upper case, or null if it is not NEVER alone or a set of SUCCESS, FAILURE, DELAY. */
    private static String notify(String v) {
        String upper = Ascii.toUpperCase(v);
        if (upper.equals("NEVER")) {
            return upper;
        }
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
        for (String k : upper.split(",", -1)) {
            if (!(k.equals("SUCCESS") || k.equals("FAILURE") || k.equals("DELAY")) || !seen.add(k)) {
                return null;
            }
        }
        return String.join(",", seen);
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
        RcptParams dsn = dsnParams(path);
        if (dsn == null) {
            if (path.params().stream().allMatch(p -> SmtpPath.keyword(p).equals("NOTIFY")
                    || SmtpPath.keyword(p).equals("ORCPT"))) {
                reply(s, SmtpReply.RCPT_DSN_SYNTAX);
            } else {
                s.sendResponse("555 5.5.4 Unsupported RCPT TO parameter");
            }
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
            String ok = tx.recipientAccepted(path.address(), dsn);
            s.addRecipient(path.address());
            s.sendResponse(ok);
        } catch (RejectException e) {
            s.sendResponse(e.getErrorResponse());
        }
    }
}
