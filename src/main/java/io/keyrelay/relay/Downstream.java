package io.keyrelay.relay;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where relayed mail goes: an SMTP smarthost ({@link SmtpDownstream}) or, in dev mode, a capture folder
 * ({@link CaptureDownstream}). One {@link Transaction} mirrors one client transaction step by step, so the client
 * hears the downstream's own answer to each recipient and to the message.
 */
public interface Downstream extends AutoCloseable {

    /**
     * Starts a transaction with MAIL FROM. Returns the transaction, or throws: {@link Rejected} when the downstream
     * refused the sender (its reply is passed on), {@link DownstreamException} when it could not be asked. A
     * downstream that pipelines may send MAIL FROM with the first recipient instead; its refusal of the sender is
     * then the reply {@link Transaction#recipient} returns.
     */
    Transaction begin(String sender, MailParams params) throws Rejected, DownstreamException;

    /** Where mail goes, for logs: {@code smtp://host:25 (starttls)} or {@code capture:/path}. */
    String describe();

    @Override
    void close();

    /** The downstream refused MAIL FROM with this reply. */
    final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Reply reply;

        public Rejected(Reply reply) {
            super(reply.line(), null, false, false);
            this.reply = reply;
        }

        public Reply reply() {
            return reply;
        }
    }

    /** One mail transaction at the downstream. Not thread-safe: it belongs to one SMTP session. */
    interface Transaction {

        /** Relays one RCPT TO and returns the downstream's reply to it. */
        Reply recipient(String address) throws DownstreamException;

        /**
         * Relays one RCPT TO with its DSN parameters, passed on if the downstream offers DSN (RFC 3461); a
         * downstream without DSN support gets the plain RCPT TO.
         */
        default Reply recipient(String address, RcptParams dsn) throws DownstreamException {
            return recipient(address);
        }

        /**
         * Sends the message: {@code prefix} (keyrelay's Received header) then {@code content} (the client's bytes,
         * dot-unstuffed), and returns the downstream's final reply. An {@link IOException} from reading
         * {@code content} (the client went away, or the size limit was hit) propagates and the downstream
         * transaction is abandoned without the downstream accepting anything.
         */
        Reply data(byte[] prefix, InputStream content) throws DownstreamException, IOException;

        /** Abandons the transaction (client RSET, QUIT, or an error); the downstream accepts nothing. */
        void abort();

        /** Ends use of the transaction: after {@link #data}, or after {@link #abort}. Idempotent. */
        void close();
    }
}
