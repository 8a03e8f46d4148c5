package io.keyrelay.relay;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.IdleWatchdog;
import io.keyrelay.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The downstream MTA, reached through a bounded pool of reused SMTP connections.
 *
 * <p>At most {@code downstream.pool_size} connections exist; a session that finds none free waits up to
 * {@code downstream.connect_timeout} and then gets a temporary failure. A connection goes back to the pool after a
 * completed transaction (RFC 5321 resets the state after DATA) or after an RSET; a broken one is dropped. Idle
 * connections are reused most-recently-used first and closed after {@link #MAX_IDLE}; if a reused connection turns
 * out dead at MAIL FROM — nothing has been accepted yet — the transaction is retried once on a fresh connection.
 *
 * <p>When the downstream offers PIPELINING (and {@code downstream.pipelining} is on), MAIL FROM is not sent on its
 * own: it travels in one write with the first RCPT TO, which saves a round trip — a write, a read and a wait — per
 * message. The client's MAIL FROM is then answered by keyrelay after its own checks, and a sender the downstream
 * refuses is refused at the client's RCPT TO with the downstream's reply (as Postfix does with
 * {@code smtpd_delay_reject}); nothing is acknowledged that the downstream did not accept.
 */
public final class SmtpDownstream implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(SmtpDownstream.class);
    static final Duration MAX_IDLE = Duration.ofSeconds(50);

    private final SmtpClientConnection.Settings settings;
    private final Semaphore permits;
    private final Deque<SmtpClientConnection> idle = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final long acquireTimeoutMs;
    private final String description;
    private final boolean pipelining;
    /** Times downstream reads and writes (downstream.read_timeout) once a connection is set up. */
    private final IdleWatchdog watchdog;
    private volatile boolean closed;

    public SmtpDownstream(RelayConfig.Downstream c, String heloName) {
        SmtpClientConnection.Mode mode = switch (c.tls()) {
            case NONE -> SmtpClientConnection.Mode.NONE;
            case STARTTLS -> SmtpClientConnection.Mode.STARTTLS;
            case IMPLICIT -> SmtpClientConnection.Mode.IMPLICIT;
        };
        SSLContext ssl = mode == SmtpClientConnection.Mode.NONE ? null
                : c.tlsVerify() ? TlsContexts.client(c.caFile()) : TlsContexts.trustingAnyCertificate();
        this.settings = new SmtpClientConnection.Settings(c.host(), c.port(), mode, ssl, c.tlsVerify(), heloName,
                c.username(), c.password(), (int) c.connectTimeout().toMillis(), (int) c.readTimeout().toMillis());
        this.permits = new Semaphore(c.poolSize(), true);
        this.acquireTimeoutMs = c.connectTimeout().toMillis();
        this.pipelining = c.pipelining();
        this.watchdog = new IdleWatchdog("downstream-watchdog", c.readTimeout());
        this.description = "smtp://" + c.host() + ":" + c.port() + " (" + c.tls().name().toLowerCase(Locale.ROOT)
                + (c.tls() != RelayConfig.DownstreamTls.NONE && !c.tlsVerify() ? ", certificate not verified" : "")
                + (c.username().isEmpty() ? "" : ", auth as " + c.username()) + ")";
    }

    @Override
    public Transaction begin(String sender, MailParams params) throws Rejected, DownstreamException {
        if (closed) {
            throw new DownstreamException("pool", "downstream pool is closed", null);
        }
        try {
            if (!permits.tryAcquire(acquireTimeoutMs, TimeUnit.MILLISECONDS)) {
                throw new DownstreamException("pool", "no downstream connection free within " + acquireTimeoutMs
                        + " ms (downstream.pool_size)", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownstreamException("pool", "interrupted waiting for a downstream connection", e);
        }
        boolean handedOver = false;
        try {
            SmtpClientConnection c = takeIdle();
            boolean reused = c != null;
            if (c == null) {
                c = SmtpClientConnection.open(settings, watchdog);
            }
            String mail;
            try {
                mail = mailFrom(sender, params, c);
            } catch (SmtpUtf8Unsupported e) {
                giveBack(c, false);
                throw new Rejected(new Reply(553, "5.6.7 The downstream server does not support SMTPUTF8"));
            }
            if (pipelining && c.supports("PIPELINING")) {
                handedOver = true;
                return new Tx(c, reused, sender, params, mail); // MAIL FROM goes with the first RCPT TO
            }
            Reply r;
            try {
                r = c.command(mail);
            } catch (IOException e) {
                c.close();
                if (!reused) {
                    throw new DownstreamException("io", "downstream connection lost at MAIL FROM: " + e, e);
                }
                log.debug("reused downstream connection was dead ({}); retrying on a fresh one", e.toString());
                c = SmtpClientConnection.open(settings, watchdog);
                try {
                    r = c.command(mail);
                } catch (IOException e2) {
                    c.close();
                    throw new DownstreamException("io", "downstream connection lost at MAIL FROM: " + e2, e2);
                }
            }
            if (!r.isPositive()) {
                giveBack(c, false);
                if (r.code() == 421) {
                    c.close();
                }
                throw new Rejected(r);
            }
            handedOver = true;
            return new Tx(c, false, sender, params, null);
        } finally {
            if (!handedOver) {
                permits.release();
            }
        }
    }

    private static String mailFrom(String sender, MailParams p, SmtpClientConnection c) throws SmtpUtf8Unsupported {
        StringBuilder sb = new StringBuilder(64).append("MAIL FROM:<").append(sender).append('>');
        if (p.declaredSize() > 0 && c.supports("SIZE")) {
            sb.append(" SIZE=").append(p.declaredSize());
        }
        if (p.body() != null && c.supports("8BITMIME")) {
            sb.append(" BODY=").append(p.body());
        }
        if (p.smtpUtf8()) {
            if (!c.supports("SMTPUTF8")) {
                throw new SmtpUtf8Unsupported();
            }
            sb.append(" SMTPUTF8");
        }
        if (c.supports("DSN")) { // RFC 3461: the DSN parameters go on only to a server that offers the extension
            if (p.ret() != null) {
                sb.append(" RET=").append(p.ret());
            }
            if (p.envid() != null) {
                sb.append(" ENVID=").append(p.envid());
            }
        }
        return sb.toString();
    }

    /** The client needs SMTPUTF8 and the downstream does not offer it; reported as a permanent refusal. */
    static final class SmtpUtf8Unsupported extends IOException {
        private static final long serialVersionUID = 1L;
    }

    private SmtpClientConnection takeIdle() {
        lock.lock();
        try {
            long now = System.nanoTime();
            while (!idle.isEmpty()) {
                SmtpClientConnection c = idle.pollFirst();
                if (!c.isBroken() && now - c.lastUsedNanos < MAX_IDLE.toNanos()) {
                    return c;
                }
                closeQuietly(c);
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Returns a connection to the pool (after an RSET if the transaction did not complete), or drops it. */
    private void giveBack(SmtpClientConnection c, boolean needsReset) {
        if (needsReset && !c.isBroken()) {
            try {
                Reply r = c.command("RSET");
                if (r.code() != 250) {
                    c.markBroken();
                }
            } catch (IOException e) {
                c.markBroken();
            }
        }
        if (c.isBroken() || closed) {
            c.close();
            return;
        }
        c.lastUsedNanos = System.nanoTime();
        lock.lock();
        try {
            idle.addFirst(c);
            // Close connections that sat unused too long (they are at the cold end).
            long now = c.lastUsedNanos;
            while (idle.size() > 1 && now - idle.peekLast().lastUsedNanos > MAX_IDLE.toNanos()) {
                closeQuietly(idle.pollLast());
            }
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(SmtpClientConnection c) {
        Thread.ofVirtual().start(c::quit);
    }

    @Override
    public String describe() {
        return description;
    }

    /** Connections currently idle in the pool (for tests and metrics). */
    public int idleConnections() {
        lock.lock();
        try {
            return idle.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            while (!idle.isEmpty()) {
                idle.pollFirst().quit();
            }
        } finally {
            lock.unlock();
        }
        watchdog.close();
    }

    /**
     * One transaction on one pooled connection. With pipelining, MAIL FROM has not been sent yet when the
     * transaction starts ({@code pendingMail}); it goes out in the same write as the first RCPT TO. A refused
     * sender is then the answer to that RCPT TO (and to each later one, which sends MAIL FROM again), and a reused
     * connection found dead at that first exchange — nothing has been accepted yet — is replaced once by a fresh one.
     */
    private final class Tx implements Transaction {
        private SmtpClientConnection conn;
        private boolean reused;
        private final String sender;
        private final MailParams params;
        private String pendingMail;
        private boolean done;
        private boolean needsReset;

        Tx(SmtpClientConnection conn, boolean reused, String sender, MailParams params, String pendingMail) {
            this.conn = conn;
            this.reused = reused;
            this.sender = sender;
            this.params = params;
            this.pendingMail = pendingMail;
            this.needsReset = pendingMail == null; // MAIL FROM was accepted: the downstream has a transaction open
        }

        @Override
        public Reply recipient(String address) throws DownstreamException {
            return recipient(address, RcptParams.NONE);
        }

        @Override
        public Reply recipient(String address, RcptParams dsn) throws DownstreamException {
            String rcpt = "RCPT TO:<" + address + ">" + (conn.supports("DSN") ? dsn.wire() : "");
            if (pendingMail != null) {
                return mailAndRecipient(rcpt);
            }
            try {
                return conn.command(rcpt);
            } catch (IOException e) {
                throw new DownstreamException("io", "downstream connection lost at RCPT TO: " + e, e);
            }
        }

        private Reply mailAndRecipient(String rcpt) throws DownstreamException {
            Reply[] replies;
            try {
                replies = conn.pipelined(pendingMail, rcpt);
            } catch (IOException e) {
                if (!reused) {
                    throw new DownstreamException("io", "downstream connection lost at MAIL FROM: " + e, e);
                }
                log.debug("reused downstream connection was dead ({}); retrying on a fresh one", e.toString());
                conn.close();
                reused = false;
                conn = SmtpClientConnection.open(settings, watchdog);
                try {
                    pendingMail = mailFrom(sender, params, conn);
                    replies = conn.pipelined(pendingMail, rcpt);
                } catch (IOException e2) {
                    throw new DownstreamException("io", "downstream connection lost at MAIL FROM: " + e2, e2);
                }
            }
            Reply mail = replies[0];
            if (!mail.isPositive()) {
                return mail; // the sender's refusal answers this RCPT; the next RCPT tries MAIL FROM again
            }
            pendingMail = null;
            needsReset = true;
            return replies[1];
        }

        @Override
        public Reply data(byte[] prefix, InputStream content) throws DownstreamException, IOException {
            if (pendingMail != null) {
                throw new IllegalStateException("DATA before any accepted recipient");
            }
            Reply r;
            try {
                r = conn.command("DATA");
            } catch (IOException e) {
                throw new DownstreamException("io", "downstream connection lost at DATA: " + e, e);
            }
            if (r.code() != 354) {
                return r; // refused before content; RSET on close
            }
            Reply fin = conn.writeData(prefix, content);
            needsReset = false; // after the final reply the downstream's transaction is over, whatever it said
            return fin;
        }

        @Override
        public void abort() {
            // RSET happens in close(); a broken connection is simply dropped.
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            try {
                giveBack(conn, needsReset);
            } finally {
                permits.release();
            }
        }
    }
}
