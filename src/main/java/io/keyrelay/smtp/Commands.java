package io.keyrelay.smtp;

import io.keyrelay.limits.KeySessions;
import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * says why), HELP's list of topics, and the answers to malformed lines ({@link MalformedLine}, see
 * {@link LineGuard}) and to sessions out of budget ({@link Closing}, see {@link SessionBudget}); the session loop, HELO,
 * RSET, NOOP, QUIT, VRFY and EXPN stay the library's, the junk ones among them counted ({@link Junk}). Every command,
 * ours and the library's, is then wrapped in a {@link DrainGuard} for the graceful shutdown. The {@code Command}
 * interface lives in the library's
 * {@code internal} package: the library version is pinned, and {@code SmtpServerIT} exercises every replaced
 * command, so an upgrade that changes it fails the build.
 */
final class Commands {
    private static final Logger log = LoggerFactory.getLogger(Commands.class);

    private Commands() {}

    /** Installs keyrelay's commands into a built (not yet started) server. */
    static void install(SMTPServer server, SmtpContext ctx, OpenSessions sessions, KeySessions keySessions) {
        var handler = server.getCommandHandler();
        handler.addCommand(new EhloCommand(ctx));
        handler.addCommand(new AuthCommand(ctx, keySessions));
        handler.addCommand(new MailCommand(ctx));
        handler.addCommand(new RcptCommand(ctx));
        handler.addCommand(new DataCommand(ctx));
        handler.addCommand(new BdatCommand());
        handler.addCommand(new StartTlsCommand(ctx));
        handler.addCommand(new MalformedLine(LineGuard.TOO_LONG, SmtpReply.LINE_TOO_LONG));
        handler.addCommand(new MalformedLine(LineGuard.BARE_CR_OR_LF, SmtpReply.BARE_CR_OR_LF));
        handler.addCommand(new MalformedLine(LineGuard.NOT_UTF8, SmtpReply.NOT_UTF8));
        handler.addCommand(new MalformedLine(LineGuard.NON_ASCII_VERB, SmtpReply.NON_ASCII_COMMAND));
        for (String marker : List.of(SessionBudget.OUT_OF_ERRORS, SessionBudget.COMMAND_LATE, SessionBudget.AUTH_LATE,
                SessionBudget.TRANSACTION_LATE)) {
            handler.addCommand(new Closing(marker, ctx));
        }
        handler.addCommand(new HelpCommand(handler.getCommand("HELP")));
        for (String verb : JUNK) {
            handler.addCommand(new Junk(handler.getCommand(verb)));
        }
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

        /**
         * For commands inside a mail transaction (RCPT, DATA): answers 530 before AUTH and 503 before MAIL, and
         * returns false then.
         */
        static boolean inTransaction(Session s) throws IOException {
            if (!s.isAuthenticated()) {
                reply(s, SmtpReply.AUTH_REQUIRED);
                return false;
            }
            if (!s.isMailTransactionInProgress()) {
                reply(s, SmtpReply.NEED_MAIL);
                return false;
            }
            return true;
        }

        /** The text after the verb, trimmed. */
        static String argument(String line, int verbLength) {
            return line.length() <= verbLength ? "" : Ascii.trim(line.substring(verbLength));
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

    /**
     * The answer to a command line {@link LineGuard} replaced: the reply says what was wrong and the session goes
     * on. Named by the marker the guard puts in the line's place (a NUL and three letters, never a real verb).
     */
    static final class MalformedLine extends Base {
        private final SmtpReply reply;

        MalformedLine(String marker, SmtpReply reply) {
            super(marker, "", "");
            this.reply = reply;
        }

        @Override
        public void execute(String line, Session s) throws IOException {
            reply(s, reply);
        }
    }

    /**
     * The end of a session whose {@link SessionBudget} ran out (a deadline passed, or too many errors): its reply,
     * then the connection closes. Named by the marker {@link LineGuard} hands out in place of a line.
     */
    static final class Closing extends Base {
        private final SmtpReply reply;
        private final SmtpContext ctx;

        Closing(String marker, SmtpContext ctx) {
            super(marker, "", "");
            this.reply = SessionBudget.closingReply(marker);
            this.ctx = ctx;
        }

        @Override
        public void execute(String line, Session s) throws DropConnectionException {
            throw close(s, reply, ctx);
        }

        /** Logs and counts why the session is closed, and returns the drop to throw. */
        static DropConnectionException close(Session s, SmtpReply reply, SmtpContext ctx) {
            String reason = reply.name().toLowerCase(java.util.Locale.ROOT);
            ctx.metrics().closed(reason);
            log.info("closing session: {} client={} errors={}", reason, SmtpContext.clientAddress(s).getHostAddress(),
                    SessionBudget.of(s).errors());
            return reply.drop();
        }
    }

    /** The commands Postfix calls junk when a session sends nothing else ({@code smtp.junk_command_limit}). */
    private static final List<String> JUNK = List.of("NOOP", "RSET", "HELP", "VRFY", "EXPN");

    /** A junk command: counted in the session's budget, then run as it is. */
    static final class Junk implements Command {
        private final Command command;

        Junk(Command command) {
            this.command = command;
        }

        @Override
        public void execute(String line, Session s) throws IOException, DropConnectionException {
            SessionBudget.of(s).junkCommand();
            command.execute(line, s);
        }

        @Override
        public HelpMessage getHelp() throws org.subethamail.smtp.internal.server.CommandException {
            return command.getHelp();
        }

        @Override
        public String getName() {
            return command.getName();
        }
    }

    /** The library's HELP, without the markers of {@link MalformedLine} in its list of topics. */
    static final class HelpCommand extends Base {
        private final Command library;

        HelpCommand(Command library) {
            super("HELP", "The HELP command gives help info about the topic specified.", "[ <topic> ]");
            this.library = library;
        }

        @Override
        public void execute(String line, Session s) throws IOException, DropConnectionException {
            if (!argument(line, 4).isEmpty() || !s.isAuthenticated()) {
                library.execute(line, s); // topics, and the library's 530 before AUTH
                return;
            }
            StringBuilder b = new StringBuilder("214-keyrelay on ").append(s.getServer().getHostName())
                    .append("\r\n214-Topics:\r\n");
            s.getServer().getCommandHandler().getVerbs().stream().filter(v -> !v.startsWith("\0")).sorted()
                    .forEach(v -> b.append("214-     ").append(v).append("\r\n"));
            s.sendResponse(b.append("214-For more info use \"HELP <topic>\".\r\n214 End of HELP info").toString());
        }
    }
}
