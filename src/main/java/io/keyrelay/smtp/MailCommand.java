package io.keyrelay.smtp;

import io.keyrelay.domains.SenderPolicy;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.limits.Admission;
import io.keyrelay.limits.Reservation;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.relay.MailParams;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.Grant;
import io.keyrelay.text.Ascii;
import io.keyrelay.text.Xtext;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * MAIL FROM: needs a successful AUTH (530), checks the path and the {@code SIZE}, {@code BODY} and {@code SMTPUTF8}
 * parameters (RFC 1870, 6152, 6531) and the DSN parameters {@code RET} and {@code ENVID} (RFC 3461), counts the message against its key's rates (451 4.7.1 when one is reached:
 * a temporary refusal, so the client retries), and opens the transaction at the downstream, whose refusal is
 * passed back.
 *
 * <p>The message is counted here rather than at the end of DATA so that concurrent sessions of one key cannot all
 * pass the check before any of them is counted, and so that a refused client costs no downstream connection. The
 * transaction gives the count back when it ends without the downstream accepting the message.
 */
final class MailCommand extends Commands.Base {
    private static final Logger log = LoggerFactory.getLogger(MailCommand.class);
    private final SmtpContext ctx;

    MailCommand(SmtpContext ctx) {
        super("MAIL", "Specifies the sender.", "FROM:<sender> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]");
        this.ctx = ctx;
    }

    @Override
    public void execute(String line, Session s) throws IOException, DropConnectionException {
        if (ctx.draining().get()) {
            throw SmtpReply.SHUTTING_DOWN.drop();
        }
        if (!s.isAuthenticated()) {
            reply(s, SmtpReply.AUTH_REQUIRED);
            return;
        }
        if (s.isMailTransactionInProgress()) {
            reply(s, SmtpReply.MAIL_NESTED);
            return;
        }
        SmtpPath path = SmtpPath.parse(argument(line, 4), "FROM:");
        if (path == null) {
            reply(s, SmtpReply.MAIL_SYNTAX);
            return;
        }
        long size = 0;
        String body = null;
        boolean utf8 = false;
        String ret = null;
        String envid = null;
        for (String p : path.params()) {
            switch (SmtpPath.keyword(p)) {
                case "SIZE" -> {
                    String v = SmtpPath.value(p, "SIZE");
                    long n = v == null ? -1 : Ascii.parseDigits(v, 18); // ASCII digits only: SIZE=٣ is no number
                    if (n < 0) {
                        reply(s, SmtpReply.MAIL_SYNTAX);
                        return;
                    }
                    size = n;
                }
                case "BODY" -> {
                    String v = SmtpPath.value(p, "BODY");
                    if (v == null || !(Ascii.equalsIgnoreCase(v, "7BIT") || Ascii.equalsIgnoreCase(v, "8BITMIME"))) {
                        reply(s, SmtpReply.MAIL_SYNTAX);
                        return;
                    }
                    body = Ascii.toUpperCase(v);
                }
                case "SMTPUTF8" -> utf8 = true;
                case "RET" -> {
                    String v = SmtpPath.value(p, "RET");
                    if (ret != null || v == null || !(Ascii.equalsIgnoreCase(v, "FULL") || Ascii.equalsIgnoreCase(v, "HDRS"))) {
                        reply(s, SmtpReply.MAIL_DSN_SYNTAX);
                        return;
                    }
                    ret = Ascii.toUpperCase(v);
                }
                case "ENVID" -> {
                    String v = SmtpPath.value(p, "ENVID");
                    if (envid != null || v == null || v.length() > 100 || !Xtext.isValid(v)) {
                        reply(s, SmtpReply.MAIL_DSN_SYNTAX);
                        return;
                    }
                    envid = v;
                }
                case "AUTH" -> { } // RFC 4954 section 5: accepted and not passed on
                default -> {
                    reply(s, SmtpReply.MAIL_PARAMETER);
                    return;
                }
            }
        }
        if (!path.isNullPath() && !path.isMailbox()) {
            reply(s, SmtpReply.BAD_SENDER);
            return;
        }
        if (!path.isAscii() && !utf8) {
            reply(s, SmtpReply.SMTPUTF8_REQUIRED);
            return;
        }
        RelayPrincipal principal = AuthCommand.principalOf(s);
        // The key may have been revoked, expired or narrowed since this session authenticated.
        AuthDecision now = ctx.authenticator().recheck(principal.key(), SmtpContext.clientAddress(s), Grant.SMTP_INJECT);
        if (now instanceof AuthDecision.Denied d) {
            log.warn("session no longer authorized: reason={} key_id={} short_key={} client={}", d.reason().wireName(),
                    principal.key().id(), principal.key().shortKey(), SmtpContext.clientAddress(s).getHostAddress());
            throw SmtpReply.CREDENTIALS_WITHDRAWN.drop();
        }
        ApiKey current = ((AuthDecision.Accepted) now).key();
        SenderPolicy.Refusal refusal = ctx.senders() == null ? null
                : ctx.senders().envelope(current, path.isNullPath() ? "" : path.address());
        if (refusal != null) {
            s.sendResponse(ctx.policyRefused(s, current, refusal, "mail", "-"));
            return;
        }
        SendingLimits limits = ctx.limitsFor(current);
        if (size > limits.maxMessageSize()) {
            ctx.metrics().limitReached(KeyLimits.Limit.MAX_MESSAGE_SIZE);
            reply(s, SmtpReply.MESSAGE_TOO_BIG);
            return;
        }
        Admission admission = ctx.limiter().admit(principal.key().id(), limits);
        if (admission instanceof Admission.Refusal r) {
            refuse(s, principal, r);
            return;
        }
        s.setDeclaredMessageSize((int) Math.min(size, Integer.MAX_VALUE));
        s.startMailTransaction();
        RelayTransaction tx = (RelayTransaction) s.getMessageHandler();
        tx.admitted(limits, (Reservation) admission);
        try {
            tx.begin(path.address(), new MailParams(size, body, utf8, ret, envid));
        } catch (RejectException e) {
            s.resetMailTransaction();
            s.sendResponse(e.getErrorResponse());
            return;
        }
        SessionBudget.of(s).transactionStarted();
        reply(s, SmtpReply.SENDER_OK);
    }

    private void refuse(Session s, RelayPrincipal principal, Admission.Refusal r) throws IOException {
        ctx.metrics().limitReached(r.limit());
        log.info("MAIL refused: key_id={} short_key={} client={} limit={} ({})", principal.key().id(),
                principal.key().shortKey(), SmtpContext.clientAddress(s).getHostAddress(), r.limit().wireName(),
                r.value());
        SmtpReply reply = r.limit() == KeyLimits.Limit.MESSAGES_PER_DAY ? SmtpReply.DAILY_QUOTA_REACHED
                : SmtpReply.RATE_LIMITED;
        s.sendResponse(reply.line(r.value()));
    }
}
