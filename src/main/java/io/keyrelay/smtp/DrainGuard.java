package io.keyrelay.smtp;

import java.io.IOException;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandException;
import org.subethamail.smtp.internal.server.HelpMessage;
import org.subethamail.smtp.server.Session;

/**
 * Wraps every SMTP command for the graceful shutdown: it marks the session busy while the command runs
 * ({@link OpenSessions}), and while the relay drains it answers {@code 421 4.3.2} and closes — before a command
 * that would start something new, and after the command that ends a session's mail transaction. A transaction
 * already under way (after MAIL) runs to its end, DATA included; QUIT is always answered normally.
 */
final class DrainGuard implements Command {
    private final Command command;
    private final OpenSessions sessions;
    private final SmtpContext ctx;
    private final boolean quit;

    DrainGuard(Command command, OpenSessions sessions, SmtpContext ctx) {
        this.command = command;
        this.sessions = sessions;
        this.ctx = ctx;
        this.quit = command.getName().equals("QUIT");
    }

    @Override
    public void execute(String line, Session s) throws IOException, DropConnectionException {
        if (!sessions.enter(s)) {
            throw SmtpReply.SHUTTING_DOWN.drop(); // the drain is closing this session right now
        }
        try {
            boolean draining = ctx.draining().get();
            if (draining && !quit && !s.isMailTransactionInProgress()) {
                throw SmtpReply.SHUTTING_DOWN.drop();
            }
            command.execute(line, s);
            if (ctx.draining().get() && !quit && !s.isMailTransactionInProgress()) {
                // The transaction this session was finishing is over (its reply is sent): now say goodbye.
                throw SmtpReply.SHUTTING_DOWN.drop();
            }
        } finally {
            sessions.leave(s);
        }
    }

    @Override
    public HelpMessage getHelp() throws CommandException {
        return command.getHelp();
    }

    @Override
    public String getName() {
        return command.getName();
    }
}
