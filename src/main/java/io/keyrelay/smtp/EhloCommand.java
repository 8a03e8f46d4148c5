package io.keyrelay.smtp;

import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.util.regex.Pattern;
import org.subethamail.smtp.server.Session;

/**
 * EHLO (RFC 5321 section 4.1.1.1), advertising per session: STARTTLS until TLS is on, and AUTH only where it may
 * be used — after STARTTLS, or before it when {@code smtp.auth.plaintext} allows this client (RFC 4954 section 4).
 * SIZE is the server's limit before AUTH and the key's own (never more) after it.
 */
final class EhloCommand extends Commands.Base {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private final SmtpContext ctx;

    EhloCommand(SmtpContext ctx) {
        super("EHLO", "Introduce yourself.", "<hostname>");
        this.ctx = ctx;
    }

    @Override
    public void execute(String line, Session s) throws IOException {
        String[] args = WHITESPACE.split(Ascii.trim(line));
        if (args.length < 2) {
            s.sendResponse("501 5.5.4 Syntax: EHLO hostname");
            return;
        }
        s.resetMailTransaction();
        s.setHelo(args[1]);
        StringBuilder r = new StringBuilder(160);
        r.append("250-").append(ctx.config().hostname()).append("\r\n");
        r.append("250-PIPELINING\r\n");
        long size = s.isAuthenticated() ? ctx.limitsFor(AuthCommand.principalOf(s)).maxMessageSize()
                : ctx.config().maxMessageSize();
        r.append("250-SIZE ").append(size).append("\r\n");
        r.append("250-8BITMIME\r\n");
        r.append("250-SMTPUTF8\r\n");
        r.append("250-DSN\r\n");
        if (ctx.startTlsOffered(s)) {
            r.append("250-STARTTLS\r\n");
        }
        if (!s.isAuthenticated() && ctx.authAllowed(s)) {
            r.append("250-AUTH PLAIN LOGIN\r\n");
        }
        r.append("250 HELP");
        s.sendResponse(r.toString());
    }
}
