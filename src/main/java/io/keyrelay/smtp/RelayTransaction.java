package io.keyrelay.smtp;

import io.keyrelay.dkim.Authors;
import io.keyrelay.dkim.DkimException;
import io.keyrelay.dkim.HeaderAddresses;
import io.keyrelay.dkim.HeaderBlock;
import io.keyrelay.dkim.MessageScan;
import io.keyrelay.dkim.Spool;
import io.keyrelay.domains.SenderPolicy;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.limits.Reservation;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.relay.Downstream;
import io.keyrelay.relay.DownstreamException;
import io.keyrelay.relay.MailParams;
import io.keyrelay.relay.RcptParams;
import io.keyrelay.relay.Reply;
import io.keyrelay.text.LogText;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.InetAddress;
import java.time.ZonedDateTime;
import java.util.List;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * One mail transaction, mirrored step by step at the downstream: the first RCPT opens it there (with MAIL FROM),
 * each RCPT is relayed and answered with the downstream's reply, and DATA streams the message through and answers
 * with the downstream's final reply. Nothing is acknowledged that the downstream did not accept. Ends with one log
 * line, and gives the message's count back to its key's rates unless the downstream accepted it.
 *
 * <p>The downstream connection is taken at the first RCPT, not at MAIL: a client that sends MAIL FROM and then
 * idles (or NOOPs) holds none of the pool, and the sender's refusal, if the downstream refuses it, is the answer to
 * that RCPT — as with a pipelining downstream, where MAIL FROM always went out with the first RCPT TO.
 *
 * <p>In queue mode ({@link QueueAcceptance}) there is no downstream here at all: RCPT is judged by syntax, limits and
 * policy only, and DATA commits the message to the store; the id of the transaction is then its queue id.
 */
final class RelayTransaction implements MessageHandler {
    private static final Logger log = LoggerFactory.getLogger(RelayTransaction.class);
    /** A held message stays in memory up to this size; past it, in a private temporary file. */
    static final int SPOOL_MEMORY = 1024 * 1024;

    private final SmtpContext ctx;
    private final Session session;
    private final RelayPrincipal principal;
    private final String id;
    private final long startNanos = System.nanoTime();
    private Downstream.Transaction down;
    private String sender;
    private MailParams params = MailParams.NONE;
    private int accepted;
    private String firstRecipient;
    private boolean downstreamLost;
    private boolean finished;
    private String result = "aborted";
    private String policy;
    private int signed;
    private String downstreamReply = "-";
    private long size;
    private SendingLimits limits;
    private Reservation reservation;
    /** Queue mode only: the recipients, kept for the commit at the end of DATA. */
    private final QueueAcceptance queued;

    RelayTransaction(SmtpContext ctx, Session session, String id) {
        this.ctx = ctx;
        this.session = session;
        this.principal = AuthCommand.principalOf(session);
        this.queued = ctx.queue() == null ? null : new QueueAcceptance(ctx.queue());
        this.id = queued == null ? id : queued.id();
    }

    /** MAIL FROM, kept until the first RCPT takes a downstream connection ({@link #recipientAccepted}). */
    void begin(String from, MailParams p) throws RejectException {
        this.sender = from;
        this.params = p;
    }

    /** MAIL FROM at the downstream, for the first recipient; its refusal becomes the answer to that RCPT. */
    private void openDownstream() throws RejectException {
        try {
            down = ctx.downstream().begin(sender, params);
        } catch (Downstream.Rejected r) {
            result = "rejected";
            downstreamReply = r.reply().line();
            throw passThrough(r.reply()); // the next RCPT asks again, as after a pipelined refusal
        } catch (DownstreamException e) {
            failed(e, "MAIL FROM");
            result = "failed";
            throw SmtpReply.DOWNSTREAM_UNAVAILABLE.reject();
        }
    }

    /** Set by MAIL FROM once the message is counted: the limits it runs under and what to give back if it fails. */
    void admitted(SendingLimits limits, Reservation reservation) {
        this.limits = limits;
        this.reservation = reservation;
    }

    /** The key's limits for this message. */
    SendingLimits limits() {
        if (limits == null) {
            limits = ctx.limitsFor(principal); // only on the library's own MAIL path, which keyrelay replaces
        }
        return limits;
    }

    boolean smtpUtf8() {
        return params.smtpUtf8();
    }

    int acceptedRecipients() {
        return accepted;
    }

    /** Relays RCPT TO; returns the reply line for an accepted recipient, throws the refusal otherwise. */
    String recipientAccepted(String address, RcptParams dsn) throws RejectException {
        if (queued != null) {
            queued.recipient(address, dsn);
            return countRecipient(address, "2.1.5 Ok");
        }
        if (downstreamLost) {
            throw SmtpReply.DOWNSTREAM_UNAVAILABLE.reject();
        }
        if (down == null) {
            openDownstream();
        }
        Reply r;
        try {
            r = down.recipient(address, dsn);
        } catch (DownstreamException e) {
            failed(e, "RCPT TO");
            throw SmtpReply.DOWNSTREAM_UNAVAILABLE.reject();
        }
        if (!r.isPositive()) {
            throw passThrough(r);
        }
        return countRecipient(address, r.text().isEmpty() ? "2.1.5 Ok" : r.text());
    }

    private String countRecipient(String address, String text) {
        accepted++;
        if (firstRecipient == null) {
            firstRecipient = address;
        }
        return "250 " + text;
    }

    /**
     * Streams the message to the downstream and returns the reply line for the client. Reading failures of the
     * client's stream (it went away, or the message is too large) propagate; the downstream accepts nothing then.
     */
    String deliver(DataStream content) throws IOException {
        if (downstreamLost) {
            content.drain();
            result = "failed";
            return SmtpReply.DOWNSTREAM_UNAVAILABLE.line();
        }
        long t0 = System.nanoTime();
        byte[] received = ReceivedHeader.build(session.getHelo().orElse(null), clientAddress(), ctx.config().hostname(),
                ctx.nodeName(), tlsInfo(), id, accepted == 1 ? firstRecipient : null, ZonedDateTime.now(ctx.clock()));
        SenderPolicy senders = ctx.senders();
        if (senders != null && senders.holdsMessages()) {
            return deliverVouched(senders, content, received, t0);
        }
        return send(received, content, content, t0);
    }

    /**
     * The message held (in memory up to a bound, then in a private file) while its {@code From:} and {@code Sender:}
     * are checked and its signature is made: a refused message never reaches the downstream, and the
     * {@code DKIM-Signature} field goes on top of the client's bytes, which stay as they were.
     */
    private String deliverVouched(SenderPolicy senders, DataStream content, byte[] received, long t0)
            throws IOException {
        HeaderBlock.Head head = null;
        AtHeaders known = null;
        if (queued == null) {
            // Passthrough: judge the header block before anything goes downstream. A message no key signs (the
            // policy alone) is then streamed on as it comes, header bytes first; only a signed one is held.
            head = HeaderBlock.Head.read(content, HeaderBlock.DEFAULT_MAX_BYTES);
            known = readAhead(senders, head);
            if (known != null && known.keys.isEmpty()) {
                Judged judged = judge(senders, known.authors);
                if (judged.refusal() != null) {
                    content.transferTo(OutputStream.nullOutputStream()); // to its end: too large still answers 552
                    size = content.count();
                    return refused(judged);
                }
                return send(received, new SequenceInputStream(head.stream(), content), content, t0);
            }
        }
        try (Spool spool = new Spool(senders.spoolDir(), SPOOL_MEMORY)) {
            // Decided as soon as the header block ends: which keys will sign it, so that a message none will
            // (the policy alone) is not canonicalised and hashed for nothing.
            AtHeaders at = new AtHeaders();
            AtHeaders decided = known;
            MessageScan scan = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, spool, h -> {
                if (decided != null) { // decided when the header block was read ahead (passthrough)
                    at.keys = decided.keys;
                    at.authors = decided.authors;
                    return true;
                }
                try {
                    Authors a = HeaderAddresses.read(h, smtpUtf8());
                    at.keys = senders.signingKeys(a);
                    at.authors = a;
                    return !at.keys.isEmpty();
                } catch (RuntimeException e) {
                    return true; // decided again, the same way, once the message has ended
                }
            });
            if (head != null) {
                scan.write(head.bytes(), 0, head.length());
            }
            content.transferTo(scan);
            scan.finish();
            size = content.count();
            Authors authors = at.authors != null ? at.authors : HeaderAddresses.read(scan.headers(), smtpUtf8());
            Judged judged = judge(senders, authors);
            if (judged.refusal() != null) {
                return refused(judged);
            }
            byte[] prefix = received;
            List<io.keyrelay.dkim.SigningKey> keys = at.authors != null ? at.keys : senders.signingKeys(authors);
            if (!keys.isEmpty()) {
                try {
                    byte[] signature = senders.signer().sign(scan, keys);
                    prefix = new byte[received.length + signature.length];
                    System.arraycopy(received, 0, prefix, 0, received.length);
                    System.arraycopy(signature, 0, prefix, received.length, signature.length);
                    signed = keys.size();
                } catch (DkimException e) {
                    log.warn("tx={} not signed: {}", id, e.getMessage());
                    if (!scan.headers().truncated()) {
                        result = "failed";
                        return SmtpReply.UNSIGNABLE.line();
                    }
                }
            }
            if (queued != null) { // the store gets the session's copy as it is: no second spool
                return queued(queued.commit(sender, params, principal, clientAddress(), prefix, spool.detach(),
                        content), content);
            }
            try (InputStream held = spool.open()) {
                return send(prefix, held, content, t0);
            }
        }
    }

    /**
     * What the header block read ahead in passthrough decides: its authors and the keys that will sign it. Null
     * when it cannot be judged before the message has ended — a block past its bound, or headers the reader threw
     * on — and the message is held and judged whole, as in queue mode.
     */
    private AtHeaders readAhead(SenderPolicy senders, HeaderBlock.Head head) {
        if (head.block() == null || head.block().truncated()) {
            return null;
        }
        try {
            AtHeaders at = new AtHeaders();
            at.authors = HeaderAddresses.read(head.block(), smtpUtf8());
            at.keys = senders.signingKeys(at.authors);
            return at;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The sender policy's verdict on a message's authors, and the key it was judged under. */
    private record Judged(ApiKey key, SenderPolicy.Refusal refusal) {}

    /** Judges {@code authors} under the key as it is now (its sending domains may have changed since AUTH). */
    private Judged judge(SenderPolicy senders, Authors authors) {
        ApiKey key = ctx.authenticator().lookup().peek(principal.key().keyHash()).orElse(principal.key());
        return new Judged(key, senders.authors(key, authors));
    }

    /** The client's reply for a refused message; the refusal is counted, logged and audited. */
    private String refused(Judged judged) {
        result = "refused";
        policy = judged.refusal().reason().wireName();
        return ctx.policyRefused(session, judged.key(), judged.refusal(), "data", id);
    }

    /** What was decided about a message when its header block ended: its authors and the keys that will sign it. */
    private static final class AtHeaders {
        Authors authors;
        List<io.keyrelay.dkim.SigningKey> keys;
    }

    /** Sends {@code prefix} and {@code body} downstream and turns its final reply into the client's. */
    private String send(byte[] prefix, InputStream body, DataStream content, long t0) throws IOException {
        if (queued != null) {
            return queued(queued.commit(sender, params, principal, clientAddress(), prefix, body, content), content);
        }
        Reply r;
        try {
            r = down.data(prefix, body);
        } catch (DownstreamException e) {
            failed(e, "DATA");
            content.drain();
            size = content.count();
            result = "failed";
            return SmtpReply.DOWNSTREAM_UNAVAILABLE.line();
        }
        finished = true;
        size = content.count();
        downstreamReply = r.line();
        if (r.isPositive()) {
            result = "delivered";
            ctx.metrics().relayed(size, System.nanoTime() - t0);
            String text = r.text();
            return "250 " + (startsWithEnhanced(text) ? text : "2.0.0 " + text);
        }
        result = "rejected";
        return passThrough(r).getErrorResponse();
    }

    /** The client's reply for a queue-mode commit, and the transaction's record of it. */
    private String queued(QueueAcceptance.Result q, DataStream content) {
        size = content.count();
        result = q.committed() ? "queued" : "failed";
        downstreamReply = q.committed() ? "-" : q.error();
        finished = true;
        return q.reply();
    }

    /** Called when the message was over the size limit and has been read to its end. */
    void tooLarge(long bytes) {
        size = bytes;
        result = "too_large";
    }

    private void failed(DownstreamException e, String step) {
        downstreamLost = true;
        downstreamReply = "error at " + step + ": " + e.getMessage();
        ctx.metrics().downstreamError(e.kind());
        log.warn("downstream failed at {}: {} ({})", step, LogText.quote(e.getMessage()), ctx.downstream().describe());
    }

    /** The downstream's refusal as this client's reply; 421 becomes 451 (it is the downstream closing, not us). */
    private static RejectException passThrough(Reply r) {
        int code = r.code() == 421 ? 451 : r.code();
        String text = r.text().isEmpty() ? (code >= 500 ? "5.0.0 Rejected by the downstream server"
                : "4.0.0 Temporarily rejected by the downstream server") : r.text();
        if (r.code() == 421) {
            text = "4.4.1 Downstream closing: " + text;
        }
        return new RejectException(code, text);
    }

    private static boolean startsWithEnhanced(String text) {
        return text.length() >= 5 && (text.charAt(0) == '2' || text.charAt(0) == '4' || text.charAt(0) == '5')
                && text.charAt(1) == '.';
    }

    private InetAddress clientAddress() {
        return SmtpContext.clientAddress(session);
    }

    private String tlsInfo() {
        SSLSocket ssl = GuardedSocket.tls(session);
        if (!session.isTLSStarted() || ssl == null) {
            return null;
        }
        SSLSession tls = ssl.getSession();
        return tls.getProtocol() + ":" + tls.getCipherSuite();
    }

    @Override
    public void from(String from) throws RejectException {
        begin(from, MailParams.NONE);
    }

    @Override
    public void recipient(String recipient) throws RejectException {
        recipientAccepted(recipient, RcptParams.NONE);
    }

    @Override
    public String data(InputStream data) {
        throw new UnsupportedOperationException("DATA is handled by keyrelay's DataCommand");
    }

    @Override
    public void done() {
        SessionBudget.of(session).transactionEnded();
        if (reservation != null && !result.equals("delivered") && !result.equals("queued")) {
            reservation.release(); // refused, failed, too large or abandoned: it does not use the key's quota
        }
        if (down != null) {
            if (!finished) {
                down.abort();
            }
            down.close();
        }
        ctx.metrics().message(result);
        log.info("tx={} session={} client={} key_id={} short_key={} subaccount={} from={} rcpts={} size={} result={}"
                        + " downstream={} ms={}{}",
                id, session.getSessionId(), clientAddress().getHostAddress(),
                principal == null ? "-" : principal.key().id(), principal == null ? "-" : principal.key().shortKey(),
                principal == null || principal.subaccountId() == null ? "-" : principal.subaccountId(),
                LogText.quote(sender == null ? "" : "<" + sender + ">"), accepted, size, result,
                LogText.quote(downstreamReply),
                (System.nanoTime() - startNanos) / 1_000_000,
                (policy == null ? "" : " policy=" + policy) + (signed == 0 ? "" : " dkim=" + signed));
    }
}
