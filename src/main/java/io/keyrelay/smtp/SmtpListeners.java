package io.keyrelay.smtp;

import io.keyrelay.config.Durations;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.limits.KeySessions;
import io.keyrelay.net.IdleWatchdog;
import io.keyrelay.net.WatchedSocket;
import io.keyrelay.tls.TlsContexts;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The SMTP listeners: {@code smtp.port} (plain, with STARTTLS when a certificate is configured) and, when set,
 * {@code smtp.implicit_tls_port} (TLS from the first byte, RFC 8314). Each session runs on its own virtual thread;
 * TLS is 1.2 or 1.3 only, and nothing on the path does a reverse DNS lookup. With {@code smtp.proxy_protocol} on,
 * both listeners expect a PROXY header from a trusted proxy first ({@link TrustedProxyHandler}).
 *
 * <p>{@link #drain} is the graceful shutdown: stop accepting, close idle sessions with {@code 421 4.3.2}, and wait
 * for the transactions under way; {@link #close} then stops everything, waiting a bounded time for sessions.
 */
public final class SmtpListeners implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SmtpListeners.class);
    /** How long {@link #close} waits for sessions to end after closing their connections. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private final SmtpContext ctx;
    private final SSLContext tls;
    private final OpenSessions sessions = new OpenSessions();
    private final KeySessions keySessions = new KeySessions();
    private final AddressLimits addresses;
    private final List<SMTPServer> servers = new ArrayList<>();
    private final List<DrainableServerSocket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong messageIds = new AtomicLong();
    private final String idPrefix = Long.toString(System.nanoTime() & 0xfffff, 36).toUpperCase(java.util.Locale.ROOT);
    private SMTPServer plain;
    private SMTPServer implicit;
    /** Times reads and writes on accepted plain sockets (smtp.idle_timeout) without a timer per read. */
    private IdleWatchdog idleWatchdog;

    /** {@code tls} may be null when no certificate is configured (then there is no STARTTLS and no implicit TLS). */
    public SmtpListeners(SmtpContext ctx, SSLContext tls) {
        this.ctx = ctx;
        this.tls = tls;
        this.addresses = new AddressLimits(ctx.config().sessionLimits(), ctx.throttle().limits().trackedAddresses(),
                ctx.clock());
    }

    /** Binds and starts the listeners; returns once they accept connections. */
    public SmtpListeners start() {
        idleWatchdog = new IdleWatchdog("smtp-idle-watchdog", ctx.config().idleTimeout(),
                ctx.config().sessionLimits().shortestDeadline(ctx.config().proxy().enabled()));
        plain = build(ctx.config().port(), false);
        servers.add(plain);
        if (ctx.config().implicitTlsPort() != 0) {
            implicit = build(ctx.config().implicitTlsPort(), true);
            servers.add(implicit);
        }
        for (SMTPServer s : servers) {
            s.start();
            log.info("SMTP listening on {}:{}{}", ctx.config().listen().getHostAddress(), s.getPortAllocated(),
                    s == implicit ? " (implicit TLS)" : tls != null ? " (STARTTLS)" : " (no TLS certificate configured)");
        }
        return this;
    }

    private SMTPServer build(int port, boolean implicitTls) {
        RelayConfig.Proxy proxy = ctx.config().proxy();
        // Every listener accepts plain sockets, timed by the watchdog. On the implicit-TLS port TLS is layered over
        // the watched socket at accept (the handshake runs on the session's thread, at its first read or write) —
        // or, behind a proxy, after the PROXY header, which comes in clear first (TrustedProxyHandler).
        boolean tlsAtAccept = implicitTls && !proxy.enabled();
        SMTPServer.Builder b = SMTPServer.port(port)
                .bindAddress(ctx.config().listen())
                .hostName(ctx.config().hostname())
                .softwareName("keyrelay")
                .backlog(1024)
                .executorService(Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("smtp-session-", 0).factory()))
                .maxConnections(ctx.config().maxConnections())
                // Sockets are timed by the watchdog, not SO_TIMEOUT: a timer per read cost a quarter of the relay's CPU.
                .connectionTimeoutMs(0)
                .maxRecipients(-1) // enforced by RcptCommand, with 452 4.5.3
                .maxMessageSize((int) Math.min(Integer.MAX_VALUE, ctx.config().maxMessageSize()))
                .insertReceivedHeaders(false) // ReceivedHeader writes ours, without reverse DNS
                .requireAuth(true)
                .authenticationHandlerFactory(new NoAuthMechanisms())
                .messageHandlerFactory(mc -> new RelayTransaction(ctx, (org.subethamail.smtp.server.Session) mc,
                        idPrefix + "M" + Long.toString(messageIds.incrementAndGet(), 36).toUpperCase(java.util.Locale.ROOT)))
                .sessionIdFactory(() -> idPrefix + Long.toString(sessionIds.incrementAndGet(), 36).toUpperCase(java.util.Locale.ROOT))
                .sessionHandler(new SessionTracker(ctx, sessions, addresses, keySessions))
                .serverThreadName("smtp-accept-" + port);
        if (proxy.enabled()) {
            b.proxyHandler(new TrustedProxyHandler(proxy, ctx.metrics(), implicitTls ? tls : null));
        }
        if (tls != null && !implicitTls) {
            b.enableTLS(true).startTlsSocketFactory(this::serverTls);
        }
        IdleWatchdog watchdog = idleWatchdog;
        RelayConfig.SessionLimits limits = ctx.config().sessionLimits();
        boolean proxyHeaderFirst = proxy.enabled();
        b.serverSocketFactory(() -> {
            DrainableServerSocket d = new DrainableServerSocket(new ServerSocket(), accepted -> {
                WatchedSocket watched = new WatchedSocket(accepted, watchdog, SessionBudget.DEADLINES);
                SessionBudget budget = new SessionBudget(limits, watched.watch(), proxyHeaderFirst);
                return new GuardedSocket(tlsAtAccept ? serverTls(watched) : watched, budget, proxyHeaderFirst);
            });
            sockets.add(d);
            return d;
        });
        SMTPServer server = b.build();
        Commands.install(server, ctx, sessions, keySessions);
        return server;
    }

    /** A server-side TLS socket over an accepted one (TLS 1.2 and 1.3; the handshake happens on first use). */
    private SSLSocket serverTls(Socket accepted) throws java.io.IOException {
        InetSocketAddress peer = (InetSocketAddress) accepted.getRemoteSocketAddress();
        SSLSocket s = (SSLSocket) tls.getSocketFactory()
                .createSocket(accepted, peer.getAddress().getHostAddress(), accepted.getPort(), true);
        s.setUseClientMode(false);
        s.setEnabledProtocols(TlsContexts.PROTOCOLS);
        return s;
    }

    /** The port of the STARTTLS listener (the one allocated, when 0 was configured). */
    public int port() {
        return plain.getPortAllocated();
    }

    /** The implicit-TLS port, or 0 when that listener is off. */
    public int implicitTlsPort() {
        return implicit == null ? 0 : implicit.getPortAllocated();
    }

    /** True while every listener accepts connections (false once a drain has begun). */
    public boolean listening() {
        return !servers.isEmpty() && servers.stream().allMatch(SMTPServer::isRunning)
                && sockets.stream().allMatch(DrainableServerSocket::accepting);
    }

    /** SMTP sessions open now. */
    public int openSessions() {
        return sessions.size();
    }

    /**
     * The graceful shutdown's first half: stops accepting connections, answers {@code 421 4.3.2} to sessions
     * that are idle outside a mail transaction and closes them, and waits up to {@code grace} for the rest —
     * transactions under way run to their end, and their sessions close after it ({@link DrainGuard}). Returns
     * true if every session ended in time. {@code ctx.draining()} must be set first.
     */
    public boolean drain(Duration grace) {
        sockets.forEach(DrainableServerSocket::stopAccepting);
        int idle = sessions.closeIdle(SmtpReply.SHUTTING_DOWN);
        log.info("SMTP stopped accepting; closed {} idle sessions, waiting up to {} for {} more to finish", idle,
                Durations.format(grace), sessions.size());
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            while (!sessions.awaitNone(Duration.ofNanos(Math.min(deadline - System.nanoTime(),
                    Duration.ofSeconds(1).toNanos())))) {
                if (System.nanoTime() >= deadline) {
                    log.warn("SMTP shutdown grace ({}) is over; closing {} sessions still open", Durations.format(grace),
                            sessions.size());
                    return false;
                }
                sessions.closeIdle(SmtpReply.SHUTTING_DOWN); // sessions that became idle between transactions
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        log.info("SMTP sessions all finished");
        return true;
    }

    /**
     * Stops the listeners and closes every session still open (a transaction cut off this way was never
     * acknowledged, so the client sends it again). Waits at most {@link #STOP_WAIT} per listener for its sessions:
     * one blocked on a slow downstream must not hold the process.
     */
    @Override
    public void close() {
        for (SMTPServer s : servers) {
            Thread stopper = Thread.ofVirtual().name("smtp-stop-" + s.getPort()).start(() -> {
                try {
                    s.stop();
                } catch (RuntimeException e) {
                    log.warn("error stopping SMTP listener", e);
                }
            });
            try {
                if (!stopper.join(STOP_WAIT)) {
                    stopper.interrupt(); // ends SubEthaSMTP's wait for the session threads
                    log.warn("SMTP listener on port {}: sessions still running after {}; not waiting for them",
                            s.getPortAllocated(), Durations.format(STOP_WAIT));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        servers.clear();
        if (idleWatchdog != null) {
            idleWatchdog.close();
        }
    }

    /**
     * SubEthaSMTP wants an authentication factory when AUTH is required; keyrelay's {@link AuthCommand} does the
     * work, so this one offers nothing itself.
     */
    private static final class NoAuthMechanisms implements org.subethamail.smtp.AuthenticationHandlerFactory {
        @Override
        public List<String> getAuthenticationMechanisms() {
            return List.of();
        }

        @Override
        public org.subethamail.smtp.AuthenticationHandler create() {
            throw new UnsupportedOperationException("AUTH is handled by keyrelay's AuthCommand");
        }
    }

}
