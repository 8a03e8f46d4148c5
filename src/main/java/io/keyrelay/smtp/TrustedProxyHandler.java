package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.IpLiteral;
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
import org.subethamail.smtp.internal.proxy.ProxyProtocolV1Handler;
import org.subethamail.smtp.internal.proxy.ProxyProtocolV2Handler;
import org.subethamail.smtp.server.Session;

/**
 * The PROXY protocol (HAProxy's, v1 text or v2 binary) in front of an SMTP listener, accepted only from trusted
 * peers.
 *
 * <p>SubEthaSMTP parses the header ({@code ProxyProtocolV1Handler}, {@code ProxyProtocolV2Handler}) and then takes
 * the address in it as the session's {@code getRemoteAddress()} — which the allowlists, the AUTH throttle, the logs
 * and the Received header all use — but it believes any peer. This gate refuses peers outside
 * {@code smtp.proxy_trusted} before a byte of the header is read ({@code 554 5.7.1}), and turns a missing or
 * malformed header into {@code 421 4.3.0}. A peer that connects and closes without sending anything (a load
 * balancer's TCP health check) is dropped quietly.
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
        byte[] start;
        try {
            start = peek(in, V2_SIGNATURE.length);
        } catch (IOException e) {
            start = new byte[0];
        }
        if (start.length == 0) {
            log.debug("{} closed without sending a PROXY header (a health check?)", peer.getHostAddress());
            session.quit();
            return ProxyResult.FAIL;
        }
        ProxyResult result;
        try {
            result = parse(in, out, session, start);
        } catch (IOException e) {
            result = ProxyResult.FAIL;
        }
        if (!result.isSuccess()) {
            metrics.refused("proxy_header");
            log.warn("refused a connection from {}: no valid PROXY protocol {} header (smtp.proxy_protocol)",
                    peer.getHostAddress(), proxy.mode() == RelayConfig.ProxyProtocol.ANY ? "v1 or v2"
                            : proxy.mode().name().toLowerCase(Locale.ROOT));
            return refuse(session, SmtpReply.PROXY_HEADER_INVALID);
        }
        if (implicitTls != null) {
            if (!startTls(in, session)) {
                return ProxyResult.FAIL;
            }
        } else {
            GuardedSocket.guardOf(session).commands(); // the header is read: command lines are checked from here
        }
        return result;
    }

    private ProxyResult parse(InputStream in, OutputStream out, Session session, byte[] start) throws IOException {
        boolean v1 = start.length >= V1_PREFIX.length && Arrays.equals(start, 0, V1_PREFIX.length, V1_PREFIX, 0,
                V1_PREFIX.length);
        boolean v2 = Arrays.equals(start, V2_SIGNATURE);
        RelayConfig.ProxyProtocol mode = proxy.mode();
        if (v1 && (mode == RelayConfig.ProxyProtocol.V1 || mode == RelayConfig.ProxyProtocol.ANY)) {
            return ProxyProtocolV1Handler.INSTANCE.handle(in, out, session);
        }
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

    /** Up to {@code n} bytes from the start of the stream, left in place to be read again. */
    private static byte[] peek(InputStream in, int n) throws IOException {
        in.mark(n);
        byte[] b = in.readNBytes(n);
        in.reset();
        return b;
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
            session.setSocket(new GuardedSocket(tls, false));
            session.setTlsStarted(true);
            return true;
        } catch (IOException e) {
            log.debug("TLS handshake after the PROXY header failed: {}", e.toString());
            session.quit();
            return false;
        }
    }
}
