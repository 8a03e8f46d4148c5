package io.keyrelay.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * One client connection of the load generator, on a raw socket: commands go out as one write and one flush each
 * (no pipelining, as most submission clients do), replies are read into a reused buffer, and only a reply's code
 * is parsed unless the caller asks for its text (to report a failure).
 *
 * <p>TCP_NODELAY is on: a client that left Nagle's algorithm on would measure its own delayed-ACK stalls.
 */
final class BenchConnection implements Closeable {
    private static final int MAX_LINE = 4096;

    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] line = new byte[MAX_LINE];
    private final StringBuilder lastReply = new StringBuilder(128);

    /** Thrown when a reply is not the one expected; carries the reply (never a secret). */
    static final class UnexpectedReply extends IOException {
        private static final long serialVersionUID = 1L;
        private final String step;
        private final String reply;

        UnexpectedReply(String step, String reply) {
            super(step + ": " + reply, null);
            this.step = step;
            this.reply = reply;
        }

        String step() {
            return step;
        }

        String reply() {
            return reply;
        }
    }

    /** Connects (and, for implicit TLS, completes the handshake). */
    BenchConnection(InetSocketAddress target, int connectTimeoutMs, int readTimeoutMs, SSLContext implicitTls)
            throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(target, connectTimeoutMs);
            s.setSoTimeout(readTimeoutMs);
            if (implicitTls != null) {
                s = handshake(implicitTls, s, target);
            }
        } catch (IOException e) {
            s.close();
            throw e;
        }
        socket = s;
        streams();
    }

    private static SSLSocket handshake(SSLContext tls, Socket plain, InetSocketAddress target) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(plain, target.getHostString(), target.getPort(),
                true);
        ssl.setUseClientMode(true);
        ssl.startHandshake();
        return ssl;
    }

    private void streams() throws IOException {
        in = new BufferedInputStream(socket.getInputStream(), 8192);
        out = new BufferedOutputStream(socket.getOutputStream(), 8192);
    }

    /** Reads the greeting; expects 220. */
    void greeting() throws IOException {
        expect("greeting", 220);
    }

    /** Sends one command and expects a reply with this code. */
    void command(String step, String command, int expected) throws IOException {
        send(command);
        expect(step, expected);
    }

    /** Sends one command without waiting for its reply. */
    void send(String command) throws IOException {
        out.write(command.getBytes(StandardCharsets.US_ASCII));
        out.write('\r');
        out.write('\n');
        out.flush();
    }

    /** STARTTLS, the handshake, and EHLO again. */
    void startTls(SSLContext tls, InetSocketAddress target, String ehlo) throws IOException {
        command("STARTTLS", "STARTTLS", 220);
        socket = handshake(tls, socket, target);
        streams();
        command("EHLO", ehlo, 250);
    }

    /** The TLS session's protocol and cipher suite, e.g. {@code TLSv1.3 TLS_AES_256_GCM_SHA384}; "none" without TLS. */
    String tlsSession() {
        return socket instanceof SSLSocket ssl
                ? ssl.getSession().getProtocol() + " " + ssl.getSession().getCipherSuite()
                : "none";
    }

    /** Writes the message content (with its terminator) in one go and expects the final 250. */
    void data(MessageContent content) throws IOException {
        content.writeTo(out);
        out.flush();
        expect("end of data", 250);
    }

    /**
     * Reads one (possibly multi-line) reply and throws unless its code is {@code expected}; an {@code expected} of
     * 2, 3, 4 or 5 accepts any code of that class.
     */
    void expect(String step, int expected) throws IOException {
        int code = readReply();
        if (expected < 10 ? code / 100 != expected : code != expected) {
            throw new UnexpectedReply(step, lastReply.toString());
        }
    }

    /** Reads one reply; returns its code. The text of the last line is kept for {@link UnexpectedReply}. */
    private int readReply() throws IOException {
        while (true) {
            int n = readLine();
            if (n < 3) {
                throw new UnexpectedReply("reply", "malformed reply line (" + n + " bytes)");
            }
            boolean last = n == 3 || line[3] == ' ';
            if (last) {
                int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
                lastReply.setLength(0);
                for (int i = 0; i < n && i < 200; i++) {
                    byte b = line[i];
                    lastReply.append(b >= 0x20 && b < 0x7f ? (char) b : '?');
                }
                return code;
            }
        }
    }

    /** Reads one line into {@link #line} without its CRLF; returns its length. */
    private int readLine() throws IOException {
        int n = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("server closed the connection");
            }
            if (c == '\n') {
                return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
            }
            if (n == MAX_LINE) {
                throw new UnexpectedReply("reply", "reply line longer than " + MAX_LINE + " bytes");
            }
            line[n++] = (byte) c;
        }
    }

    /** QUIT, without caring much for the answer. */
    void quit() {
        try {
            send("QUIT");
            readReply();
        } catch (IOException e) {
            // closing anyway
        }
        close();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
