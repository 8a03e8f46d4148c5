package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.IpLiteral;
import io.keyrelay.text.LogText;
import io.keyrelay.tls.TlsContexts;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.internal.proxy.ProxyHandler;
import org.subethamail.smtp.internal.proxy.ProxyProtocolV2Handler;
import org.subethamail.smtp.server.Session;

/**
 * The PROXY protocol (HAProxy's, v1 text or v2 binary) in front of an SMTP listener, accepted only from trusted
 * peers.
 *
 * <p>SubEthaSMTP parses the header ({@code ProxyProtocolV1Handler}, {@code ProxyProtocolV2Handler}) and then takes
 * the address in it as the session's {@code getRemoteAddress()} — which the allowlists, the AUTH throttle, the
 * per-address limits, the logs and the Received header all use — but it believes any peer. This gate refuses peers
 * outside {@code smtp.proxy_trusted} before a byte of the header is read ({@code 554 5.7.1}), and turns a missing
 * or malformed header into {@code 421 4.3.0}. A peer that connects and closes without sending anything (a load
 * balancer's TCP health check) is dropped quietly. The header must be complete within {@code smtp.proxy_timeout}
 * (a deadline of the session's {@link SessionBudget}), so a trusted peer that sends a few bytes and stops does not
 * hold a session until the idle timeout. v1 headers are read by {@link ProxyV1Header} (IPv4-mapped addresses
 * accepted, no DNS); v2 by the library's parser.
 *
 * <p>For {@code any}, the first bytes are peeked under a mark on the session's own buffered stream and the matching
 * parser is called on that same stream, so no byte after the header is lost. (The library's combined
 * {@code ProxyProtocolV1V2Handler} reads through a second buffer of its own and can swallow the bytes that follow.)
 *
 * <p>On the implicit-TLS listener the proxy sends its header in clear before the client's TLS bytes, so that
 * listener accepts plain sockets and the TLS handshake is done here, after the header: the bytes of the client's
 * hello that were already buffered with the header are handed to the TLS socket.
 */
final class TrustedProxyHandler implements ProxyHandler {
    private static final Logger log = LoggerFactory.getLogger(TrustedProxyHandler.class);
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_FIXED_HEADER = 16;

    private final RelayConfig.Proxy proxy;
    private final RelayMetrics metrics;
    private final SSLContext implicitTls;

    /** {@code implicitTls} is the server context when this gate fronts the implicit-TLS listener, else null. */
    TrustedProxyHandler(RelayConfig.Proxy proxy, RelayMetrics metrics, SSLContext implicitTls) {
        if (!proxy.enabled()) {
            throw new IllegalArgumentException("smtp.proxy_protocol is off");
        }
        this.proxy = proxy;
        this.metrics = metrics;
        this.implicitTls = implicitTls;
    }

    @Override
    public ProxyResult handle(InputStream in, OutputStream out, Session session) throws IOException {
        InetAddress peer = IpLiteral.normalise(session.getRealRemoteAddress().getAddress());
        if (!proxy.trusts(peer)) {
            metrics.refused("untrusted_proxy");
            log.info("refused a connection from {}: not in smtp.proxy_trusted", peer.getHostAddress());
            return refuse(session, SmtpReply.PROXY_UNTRUSTED);
        }
        if (!in.markSupported()) {
            throw new IllegalStateException("the session's input must be buffered (SubEthaSMTP's always is)");
        }
        SessionBudget budget = GuardedSocket.budgetOf(session);
        byte[] start = peek(in, V2_SIGNATURE.length);
        if (start.length == 0) {
            log.debug("{} closed without sending a PROXY header (a health check?){}", peer.getHostAddress(),
                    budget.proxyLate() ? ", or sent nothing within smtp.proxy_timeout" : "");
            session.quit();
            return ProxyResult.FAIL;
        }
        ProxyResult result;
        String problem;
        try {
            ProxyV1Header.Result v1 = null;
            if (start.length < V2_SIGNATURE.length && !isV1(start)) {
                result = ProxyResult.FAIL; // fewer than 12 bytes, then nothing more: no header of either kind
                problem = null;
            } else if (isV1(start) && (proxy.mode() == RelayConfig.ProxyProtocol.V1
                    || proxy.mode() == RelayConfig.ProxyProtocol.ANY)) {
                v1 = ProxyV1Header.read(in);
                result = v1.problem() != null ? ProxyResult.FAIL
                        : v1.unknown() ? ProxyResult.NOP : new ProxyResult(v1.client());
                problem = v1.problem();
            } else {
                result = parseV2(in, out, session, start);
                problem = null;
            }
        } catch (IOException e) {
            result = ProxyResult.FAIL;
            problem = e.getMessage();
        }
        if (!result.isSuccess()) {
            metrics.refused("proxy_header");
            log.warn("refused a connection from {}: no valid PROXY protocol {} header (smtp.proxy_protocol){}",
                    peer.getHostAddress(), proxy.mode() == RelayConfig.ProxyProtocol.ANY ? "v1 or v2"
                            : proxy.mode().name().toLowerCase(Locale.ROOT),
                    budget.proxyLate() ? ": not complete within smtp.proxy_timeout"
                            : problem == null ? "" : ": " + LogText.quote(problem));
            return refuse(session, SmtpReply.PROXY_HEADER_INVALID);
        }
        budget.proxyHeaderRead();
        if (implicitTls != null) {
            if (!startTls(in, session)) {
                return ProxyResult.FAIL;
            }
        } else {
            GuardedSocket.guardOf(session).commands(); // the header is read: command lines are checked from here
        }
        return result;
    }

    private static boolean isV1(byte[] start) {
        return start.length >= V1_PREFIX.length && Arrays.equals(start, 0, V1_PREFIX.length, V1_PREFIX, 0,
                V1_PREFIX.length);
    }

    private ProxyResult parseV2(InputStream in, OutputStream out, Session session, byte[] start) throws IOException {
        boolean v2 = Arrays.equals(start, V2_SIGNATURE);
        RelayConfig.ProxyProtocol mode = proxy.mode();
        if (v2 && (mode == RelayConfig.ProxyProtocol.V2 || mode == RelayConfig.ProxyProtocol.ANY)) {
            byte[] header = peek(in, V2_FIXED_HEADER); // the library reads these 16 bytes with a single read()
            if (header.length == V2_FIXED_HEADER && (header[15] & 0x80) != 0) {
                // SubEthaSMTP 7.2.2 sign-extends the low byte of the length and would misread this header.
                log.error("PROXY v2 header with {} bytes of addresses and TLVs: SubEthaSMTP misreads lengths whose"
                        + " low byte is 128 or more; send fewer TLVs (HAProxy: proxy-v2-options)",
                        ((header[14] & 0xff) << 8) | (header[15] & 0xff));
                return ProxyResult.FAIL;
            }
            return ProxyProtocolV2Handler.INSTANCE.handle(in, out, session);
        }
        return ProxyResult.FAIL;
    }

    /**
     * Up to {@code n} bytes from the start of the stream, left in place to be read again: fewer when the peer
     * closes, or stops sending until {@code smtp.proxy_timeout} ends the read.
     */
    private static byte[] peek(InputStream in, int n) throws IOException {
        in.mark(n);
        byte[] b = new byte[n];
        int got = 0;
        try {
            while (got < n) {
                int r = in.read(b, got, n - got);
                if (r < 0) {
                    break;
                }
                got += r;
            }
        } catch (IOException e) {
            // closed or timed out: what came so far is all there is
        }
        in.reset();
        return got == n ? b : Arrays.copyOf(b, got);
    }

    /**
     * The reply the session sends for a refusal; on the implicit-TLS listener the client expects TLS, so the
     * connection is closed without one (the session then finds it closed and ends quietly).
     */
    private ProxyResult refuse(Session session, SmtpReply reply) {
        if (implicitTls != null) {
            session.quit();
        }
        return new ProxyResult(reply.code(), reply.text());
    }

    private boolean startTls(InputStream in, Session session) {
        try {
            byte[] early = in.readNBytes(in.available()); // the client's hello, read along with the header
            SSLSocket tls = (SSLSocket) implicitTls.getSocketFactory()
                    .createSocket(GuardedSocket.transport(session), new ByteArrayInputStream(early), true);
            tls.setUseClientMode(false);
            tls.setEnabledProtocols(TlsContexts.PROTOCOLS);
            tls.startHandshake();
            session.setSocket(new GuardedSocket(tls, GuardedSocket.budgetOf(session), false));
            session.setTlsStarted(true);
            return true;
        } catch (IOException e) {
            log.debug("TLS handshake after the PROXY header failed: {}", LogText.quote(e.toString()));
            session.quit();
            return false;
        }
    }
}
