package io.keyrelay.relay;

import io.keyrelay.config.RelayConfig;
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
                c = SmtpClientConnection.open(settings);
            }
            Reply r;
            try {
                r = c.command(mailFrom(sender, params, c));
            } catch (SmtpUtf8Unsupported e) {
                giveBack(c, false);
                throw new Rejected(new Reply(553, "5.6.7 The downstream server does not support SMTPUTF8"));
            } catch (IOException e) {
                c.close();
                if (!reused) {
                    throw new DownstreamException("io", "downstream connection lost at MAIL FROM: " + e, e);
                }
                log.debug("reused downstream connection was dead ({}); retrying on a fresh one", e.toString());
                c = SmtpClientConnection.open(settings);
                try {
                    r = c.command(mailFrom(sender, params, c));
                } catch (SmtpUtf8Unsupported e2) {
                    giveBack(c, false);
                    throw new Rejected(new Reply(553, "5.6.7 The downstream server does not support SMTPUTF8"));
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
            return new Tx(c);
        } finally {
            if (!handedOver) {
                permits.release();
            }
        }
    }

    private static String mailFrom(String sender, MailParams p, SmtpClientConnection c) throws IOException {
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
    }

    private final class Tx implements Transaction {
        private final SmtpClientConnection conn;
        private boolean done;
        private boolean needsReset = true;

        Tx(SmtpClientConnection conn) {
            this.conn = conn;
        }

        @Override
        public Reply recipient(String address) throws DownstreamException {
            try {
                return conn.command("RCPT TO:<" + address + ">");
            } catch (IOException e) {
                throw new DownstreamException("io", "downstream connection lost at RCPT TO: " + e, e);
            }
        }

        @Override
        public Reply data(byte[] prefix, InputStream content) throws DownstreamException, IOException {
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
