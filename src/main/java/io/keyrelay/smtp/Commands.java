package io.keyrelay.smtp;

import java.io.IOException;
import java.util.Set;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.HelpMessage;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * keyrelay's replacements for some of SubEthaSMTP's commands, and the base they share.
 *
 * <p>SubEthaSMTP 7.2 decides what EHLO advertises and whether AUTH is allowed once per server, not per client; it
 * drops MAIL FROM parameters (SIZE, BODY, SMTPUTF8) before the handler sees them; answers AUTH, RCPT and DATA with
 * fixed texts; and unstuffs dots only after a CRLF that it has seen. keyrelay replaces EHLO, AUTH, MAIL, RCPT, DATA
 * and BDAT through the server's public {@code CommandHandler.addCommand}, and STARTTLS too ({@link StartTlsCommand}
 * says why); the session loop, HELO, RSET, NOOP, QUIT, VRFY, EXPN and HELP stay the library's. Every command, ours
 * and the library's, is then wrapped in a {@link DrainGuard} for the graceful shutdown. The {@code Command}
 * interface lives in the library's
 * {@code internal} package: the library version is pinned, and {@code SmtpServerIT} exercises every replaced
 * command, so an upgrade that changes it fails the build.
 */
final class Commands {
    private Commands() {}

    /** Installs keyrelay's commands into a built (not yet started) server. */
    static void install(SMTPServer server, SmtpContext ctx, OpenSessions sessions) {
        var handler = server.getCommandHandler();
        handler.addCommand(new EhloCommand(ctx));
        handler.addCommand(new AuthCommand(ctx));
        handler.addCommand(new MailCommand(ctx));
        handler.addCommand(new RcptCommand(ctx));
        handler.addCommand(new DataCommand(ctx));
        handler.addCommand(new BdatCommand());
        handler.addCommand(new StartTlsCommand(ctx));
        for (String verb : Set.copyOf(handler.getVerbs())) {
            handler.addCommand(new DrainGuard(handler.getCommand(verb), sessions, ctx));
        }
    }

    /** A command with a name and help text. */
    abstract static class Base implements Command {
        private final String name;
        private final HelpMessage help;

        Base(String name, String help, String args) {
            this.name = name;
            this.help = new HelpMessage(name, help, args);
        }

        @Override
        public final HelpMessage getHelp() {
            return help;
        }

        @Override
        public final String getName() {
            return name;
        }

        static void reply(Session s, SmtpReply r) throws IOException {
            s.sendResponse(r.line());
        }

        /** The text after the verb, trimmed. */
        static String argument(String line, int verbLength) {
            return line.length() <= verbLength ? "" : line.substring(verbLength).strip();
        }
    }

    /** BDAT (RFC 3030) is not advertised; refuse it cleanly instead of half-supporting it. */
    static final class BdatCommand extends Base {
        BdatCommand() {
            super("BDAT", "Not supported; use DATA.", "");
        }

        @Override
        public void execute(String line, Session s) throws IOException, DropConnectionException {
            reply(s, SmtpReply.BDAT_UNSUPPORTED);
        }
    }
}
