package io.keyrelay.smtp;

import io.keyrelay.keys.KeyLimits;
import io.keyrelay.text.Ascii;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.server.Session;

/**
 * DATA: streams the message to the downstream and answers with its final reply.
 *
 * <p>A message over its key's size limit ({@code smtp.max_message_size} or lower) is read to its end and then
 * refused with 552 (not by dropping the connection: a sender retries a 421 forever), and the session carries on. Whatever the outcome, the transaction
 * is over afterwards (RFC 5321 section 4.1.1.4), so the client can start the next one without RSET.
 */
final class DataCommand extends Commands.Base {
    private final SmtpContext ctx;

    DataCommand(SmtpContext ctx) {
        super("DATA", "Sends the message; end it with <CR><LF>.<CR><LF>.", "");
        this.ctx = ctx;
    }

    @Override
    public void execute(String line, Session s) throws IOException, DropConnectionException {
        if (!inTransaction(s)) {
            return;
        }
        RelayTransaction tx = (RelayTransaction) s.getMessageHandler();
        if (tx.acceptedRecipients() == 0) {
            reply(s, SmtpReply.NEED_RCPT);
            return;
        }
        if (!Ascii.equalsIgnoreCase(Ascii.trim(line), "DATA")) {
            s.sendResponse("501 5.5.4 Syntax: DATA (no parameters)");
            return;
        }
        reply(s, SmtpReply.START_DATA);
        SessionBudget budget = SessionBudget.of(s);
        budget.dataStarted();
        LineGuard guard = GuardedSocket.guardOf(s);
        guard.data(); // the message's bytes are relayed as they are, lines of any length included
        DataStream data = new DataStream(s.getRawInput(), tx.limits().maxMessageSize());
        String response;
        try {
            try {
                response = tx.deliver(data);
            } catch (DataStream.TooLargeException e) {
                data.drain();
                tx.tooLarge(data.count());
                ctx.metrics().limitReached(KeyLimits.Limit.MAX_MESSAGE_SIZE);
                response = SmtpReply.MESSAGE_TOO_BIG.line();
            }
        } catch (EOFException gone) {
            // The client hung up before the end of the data: nothing was relayed (the downstream connection that
            // carried the partial message is dropped), nobody is left to answer, and it is no error of ours.
            s.quit();
            return;
        } catch (SocketTimeoutException late) {
            if (budget.dataLate()) { // smtp.data_timeout: the whole message, however it trickled in
                throw Commands.Closing.close(s, SmtpReply.DATA_TIMEOUT, ctx); // done() drops what was relayed
            }
            throw late; // the idle timeout, which the library answers
        } finally {
            guard.commands();
        }
        s.sendResponse(response);
        if (response.startsWith("250")) {
            budget.delivered();
        }
        s.resetMailTransaction();
    }
}
