package io.keyrelay.smtp;

import io.keyrelay.tls.TlsContexts;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The SMTP listeners: {@code smtp.port} (plain, with STARTTLS when a certificate is configured) and, when set,
 * {@code smtp.implicit_tls_port} (TLS from the first byte, RFC 8314). Each session runs on its own virtual thread;
 * TLS is 1.2 or 1.3 only, and nothing on the path does a reverse DNS lookup.
 */
public final class SmtpListeners implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SmtpListeners.class);

    private final SmtpContext ctx;
    private final SSLContext tls;
    private final List<SMTPServer> servers = new ArrayList<>();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong messageIds = new AtomicLong();
    private final String idPrefix = Long.toString(System.nanoTime() & 0xfffff, 36).toUpperCase(java.util.Locale.ROOT);
    private SMTPServer plain;
    private SMTPServer implicit;

    /** {@code tls} may be null when no certificate is configured (then there is no STARTTLS and no implicit TLS). */
    public SmtpListeners(SmtpContext ctx, SSLContext tls) {
        this.ctx = ctx;
        this.tls = tls;
    }

    /** Binds and starts the listeners; returns once they accept connections. */
    public SmtpListeners start() {
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
        SMTPServer.Builder b = SMTPServer.port(port)
                .bindAddress(ctx.config().listen())
                .hostName(ctx.config().hostname())
                .softwareName("keyrelay")
                .backlog(1024)
                .executorService(Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("smtp-session-", 0).factory()))
                .maxConnections(ctx.config().maxConnections())
                .connectionTimeoutMs((int) Math.min(Integer.MAX_VALUE, ctx.config().idleTimeout().toMillis()))
                .maxRecipients(-1) // enforced by RcptCommand, with 452 4.5.3
                .maxMessageSize((int) Math.min(Integer.MAX_VALUE, ctx.config().maxMessageSize()))
                .insertReceivedHeaders(false) // ReceivedHeader writes ours, without reverse DNS
                .requireAuth(true)
                .authenticationHandlerFactory(new NoAuthMechanisms())
                .messageHandlerFactory(mc -> new RelayTransaction(ctx, (org.subethamail.smtp.server.Session) mc,
                        idPrefix + "M" + Long.toString(messageIds.incrementAndGet(), 36).toUpperCase(java.util.Locale.ROOT)))
                .sessionIdFactory(() -> idPrefix + Long.toString(sessionIds.incrementAndGet(), 36).toUpperCase(java.util.Locale.ROOT))
                .sessionHandler(new SessionTracker(ctx))
                .serverThreadName("smtp-accept-" + port);
        if (tls != null && !implicitTls) {
            b.enableTLS(true).startTlsSocketFactory(socket -> {
                InetSocketAddress peer = (InetSocketAddress) socket.getRemoteSocketAddress();
                SSLSocket s = (SSLSocket) tls.getSocketFactory()
                        .createSocket(socket, peer.getAddress().getHostAddress(), socket.getPort(), true);
                s.setUseClientMode(false);
                s.setEnabledProtocols(TlsContexts.PROTOCOLS);
                return s;
            });
        }
        if (implicitTls) {
            b.serverSocketFactory(() -> {
                SSLServerSocket ss = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
                ss.setEnabledProtocols(TlsContexts.PROTOCOLS);
                ss.setUseClientMode(false);
                return ss;
            });
        }
        SMTPServer server = b.build();
        Commands.install(server, ctx);
        return server;
    }

    /** The port of the STARTTLS listener (the one allocated, when 0 was configured). */
    public int port() {
        return plain.getPortAllocated();
    }

    /** The implicit-TLS port, or 0 when that listener is off. */
    public int implicitTlsPort() {
        return implicit == null ? 0 : implicit.getPortAllocated();
    }

    public boolean listening() {
        return !servers.isEmpty() && servers.stream().allMatch(SMTPServer::isRunning);
    }

    @Override
    public void close() {
        for (SMTPServer s : servers) {
            try {
                s.stop();
            } catch (RuntimeException e) {
                log.warn("error stopping SMTP listener", e);
            }
        }
        servers.clear();
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
