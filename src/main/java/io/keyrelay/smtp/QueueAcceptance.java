package io.keyrelay.smtp;

import io.keyrelay.dkim.Spool;
import io.keyrelay.queue.Envelope;
import io.keyrelay.queue.MessageQueue;
import io.keyrelay.queue.Origin;
import io.keyrelay.relay.MailParams;
import io.keyrelay.relay.RcptParams;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue-mode half of a {@link RelayTransaction}: its queue id (taken at MAIL, so keyrelay's Received header can
 * carry it), the recipients as they are accepted, and the commit at the end of DATA. The reply is
 * {@code 250 2.0.0 Ok: queued as <id>} only once the store has committed envelope, origin and body together;
 * when it cannot, the client's data is read to its end and answered {@code 451 4.3.0}, and nothing of the message
 * remains.
 */
final class QueueAcceptance {
    private static final Logger log = LoggerFactory.getLogger(QueueAcceptance.class);

    /** What came of the commit: the reply for the client and, when nothing was queued, why. */
    record Result(boolean committed, String reply, String error) {}

    private final MessageQueue queue;
    private final String id;
    private final List<Envelope.Recipient> recipients = new ArrayList<>();

    QueueAcceptance(MessageQueue queue) {
        this.queue = queue;
        this.id = queue.newId();
    }

    String id() {
        return id;
    }

    void recipient(String address, RcptParams dsn) {
        recipients.add(new Envelope.Recipient(address, dsn.notifyOn(), dsn.orcpt()));
    }

    /**
     * Commits the message: {@code received} then the client's content from {@code body}. A failure to read the
     * client's stream (gone, too large) propagates as from the passthrough path; a store failure becomes the 451
     * result.
     */
    Result commit(String sender, MailParams params, RelayPrincipal principal, InetAddress client, byte[] received,
            InputStream body, DataStream content) throws IOException {
        return commit(sender, params, principal, client, content,
                (env, origin) -> queue.accept(id, env, origin, received, body));
    }

    /** {@link #commit} for content the session holds already in {@code spool}, which this call takes over. */
    Result commit(String sender, MailParams params, RelayPrincipal principal, InetAddress client, byte[] prefix,
            Spool spool, DataStream content) throws IOException {
        return commit(sender, params, principal, client, content,
                (env, origin) -> queue.accept(id, env, origin, prefix, spool));
    }

    /** The store's side of a commit. */
    @FunctionalInterface
    private interface Accept {
        void accept(Envelope env, Origin origin) throws IOException;
    }

    private Result commit(String sender, MailParams params, RelayPrincipal principal, InetAddress client,
            DataStream content, Accept accept) throws IOException {
        Envelope env = new Envelope(sender == null ? "" : sender, params, params.ret(), params.envid(), recipients);
        Origin origin = new Origin(principal == null ? null : principal.key().id(),
                principal == null ? null : principal.key().shortKey(),
                principal == null ? null : principal.subaccountId(), client.getHostAddress(), queue.node());
        try {
            accept.accept(env, origin);
            return new Result(true, SmtpReply.QUEUED.line(id), null);
        } catch (StoreException e) {
            log.warn("queue: id={} not queued, the store failed: {}", id, LogText.quote(e.getMessage()));
            content.drain();
            return new Result(false, SmtpReply.QUEUE_UNAVAILABLE.line(), "store: " + e.getMessage());
        }
    }
}
