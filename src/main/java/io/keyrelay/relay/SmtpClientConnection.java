package io.keyrelay.relay;

import io.keyrelay.net.IdleWatchdog;
import io.keyrelay.tls.TlsContexts;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One SMTP client connection to the downstream: connect (plain or implicit TLS), EHLO, STARTTLS, AUTH, then
 * MAIL / RCPT / DATA / RSET commands, each answered by one reply.
 *
 * <p>Written for relaying rather than composing mail (which is why jakarta.mail's transport is not used): the
 * content is streamed through unchanged except for dot-stuffing (jakarta.mail would rewrite bare line endings and
 * break byte-for-byte relaying), every reply is returned to the caller as it came so it can be passed back to
 * the client per recipient, TCP_NODELAY is on, and a message is flushed once, at its end, not line by line.
 */
final class SmtpClientConnection implements Closeable {
    private static final int MAX_REPLY_LINE = 4096;
    private static final int MAX_REPLY_LINES = 200;
    private static final int BUFFER = 64 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};

    /** How to reach and talk to the downstream. {@code sslContext} is null for {@code tls = none}. */
    record Settings(String host, int port, Mode mode, SSLContext sslContext, boolean verifyHost, String heloName,
            String username, String password, int connectTimeoutMs, int readTimeoutMs) {
        @Override
        public String toString() {
            return "Settings[" + host + ":" + port + " " + mode + "]"; // no password
        }
    }

    enum Mode { NONE, STARTTLS, IMPLICIT }

    private Socket socket;
    /** The TCP socket under {@link #socket} (the same one without TLS). */
    private Socket rawSocket;
    private IdleWatchdog.Watch watch;
    private InputStream in;
    private OutputStream out;
    private final Set<String> extensions = new HashSet<>();
    private final byte[] readBuffer = new byte[BUFFER];
    /** Replies from the downstream; bytes from replyStart to replyEnd are read but not yet consumed. */
    private final byte[] replyBuffer = new byte[MAX_REPLY_LINE + 512];
    private int replyStart;
    private int replyEnd;
    private boolean broken;
    long lastUsedNanos = System.nanoTime();

    private SmtpClientConnection() {}

    /**
     * Connects, reads the greeting, says EHLO, upgrades to TLS and authenticates as configured. Until then reads
     * are timed by {@code SO_TIMEOUT}; afterwards by {@code watchdog} (no timer per read on the hot path).
     */
    static SmtpClientConnection open(Settings s, IdleWatchdog watchdog) throws DownstreamException {
        SmtpClientConnection c = new SmtpClientConnection();
        try {
            c.connect(s);
            c.watchWith(watchdog);
            return c;
        } catch (DownstreamException e) {
            c.close();
            throw e;
        } catch (SocketTimeoutException e) {
            c.close();
            throw new DownstreamException("timeout", "downstream " + s.host() + ":" + s.port() + " timed out", e);
        } catch (javax.net.ssl.SSLException e) {
            c.close();
            throw new DownstreamException("tls", "TLS with downstream " + s.host() + ":" + s.port() + " failed: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            c.close();
            throw new DownstreamException("connect", "cannot talk to downstream " + s.host() + ":" + s.port() + ": "
                    + e, e);
        }
    }

    private void connect(Settings s) throws IOException, DownstreamException {
        Socket raw = new Socket();
        raw.setTcpNoDelay(true);
        raw.setKeepAlive(true);
        raw.connect(new InetSocketAddress(s.host(), s.port()), s.connectTimeoutMs());
        raw.setSoTimeout(s.readTimeoutMs());
        socket = raw;
        rawSocket = raw;
        if (s.mode() == Mode.IMPLICIT) {
            socket = upgrade(raw, s);
        }
        streams();
        expect(readReply(), 220, "greeting");
        ehlo(s.heloName());
        if (s.mode() == Mode.STARTTLS) {
            if (!extensions.contains("STARTTLS")) {
                throw new DownstreamException("tls", "downstream " + s.host() + ":" + s.port()
                        + " does not offer STARTTLS (downstream.tls is starttls)", null);
            }
            expect(command("STARTTLS"), 220, "STARTTLS");
            socket = upgrade(socket, s);
            streams();
            ehlo(s.heloName());
        }
        if (s.username() != null && !s.username().isEmpty()) {
            authenticate(s);
        }
    }

    private void watchWith(IdleWatchdog watchdog) throws IOException {
        Socket raw = rawSocket;
        watch = watchdog.watch(raw);
        in = watch.wrap(in);
        out = new BufferedOutputStream(watch.wrap(socket.getOutputStream()), BUFFER); // nothing is buffered now
        raw.setSoTimeout(0);
    }

    private static SSLSocket upgrade(Socket plain, Settings s) throws IOException {
        SSLSocket tls = (SSLSocket) s.sslContext().getSocketFactory().createSocket(plain, s.host(), s.port(), true);
        tls.setUseClientMode(true);
        tls.setEnabledProtocols(TlsContexts.PROTOCOLS);
        SSLParameters p = tls.getSSLParameters();
        if (s.verifyHost()) {
            p.setEndpointIdentificationAlgorithm("HTTPS"); // RFC 2818-style name check, as RFC 8314 asks
        }
        tls.setSSLParameters(p);
        tls.startHandshake();
        return tls;
    }

    private void streams() throws IOException {
        in = socket.getInputStream(); // buffered by readLine() in replyBuffer
        replyStart = 0; // nothing read before a TLS upgrade may be used after it (RFC 3207 section 4.2)
        replyEnd = 0;
        out = new BufferedOutputStream(socket.getOutputStream(), BUFFER);
    }

    private void ehlo(String name) throws IOException, DownstreamException {
        Reply r = command("EHLO " + name);
        expect(r, 250, "EHLO");
        extensions.clear();
        for (String line : r.text().split("; ")) {
            String ext = line.strip().toUpperCase(Locale.ROOT);
            extensions.add(ext);
            int sp = ext.indexOf(' ');
            if (sp > 0) {
                extensions.add(ext.substring(0, sp));
            }
        }
    }

    private void authenticate(Settings s) throws IOException, DownstreamException {
        String user = s.username();
        String pass = s.password() == null ? "" : s.password();
        Base64.Encoder b64 = Base64.getEncoder();
        Reply r;
        if (supportsAuth("PLAIN")) {
            byte[] token = ("\0" + user + "\0" + pass).getBytes(StandardCharsets.UTF_8);
            r = command("AUTH PLAIN " + b64.encodeToString(token));
        } else if (supportsAuth("LOGIN")) {
            r = command("AUTH LOGIN");
            if (r.code() == 334) {
                r = command(b64.encodeToString(user.getBytes(StandardCharsets.UTF_8)));
            }
            if (r.code() == 334) {
                r = command(b64.encodeToString(pass.getBytes(StandardCharsets.UTF_8)));
            }
        } else {
            throw new DownstreamException("auth", "downstream offers neither AUTH PLAIN nor AUTH LOGIN", null);
        }
        if (r.code() != 235) {
            throw new DownstreamException("auth", "downstream refused AUTH as " + user + ": " + r.line(), null);
        }
    }

    private boolean supportsAuth(String mechanism) {
        for (String e : extensions) {
            if ((e.startsWith("AUTH ") || e.startsWith("AUTH=")) && (" " + e.substring(5) + " ").contains(" " + mechanism + " ")) {
                return true;
            }
        }
        return false;
    }

    boolean supports(String extension) {
        return extensions.contains(extension.toUpperCase(Locale.ROOT));
    }

    private static void expect(Reply r, int code, String what) throws DownstreamException {
        if (r.code() != code) {
            throw new DownstreamException("protocol", "downstream answered " + what + " with " + r.line(), null);
        }
    }

    /** Sends one command line and returns the reply. */
    Reply command(String line) throws IOException {
        try {
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.write(CRLF);
            out.flush();
            return readReply();
        } catch (IOException e) {
            broken = true;
            throw e;
        }
    }

    /**
     * Sends two commands in one write (RFC 2920 pipelining: MAIL FROM and the first RCPT TO) and returns both
     * replies. If the first is 421 the downstream is closing: the second is not waited for and is null.
     */
    Reply[] pipelined(String first, String second) throws IOException {
        try {
            byte[] a = first.getBytes(StandardCharsets.UTF_8);
            byte[] b = second.getBytes(StandardCharsets.UTF_8);
            out.write(a);
            out.write(CRLF);
            out.write(b);
            out.write(CRLF);
            out.flush();
            Reply r1 = readReply();
            if (r1.code() == 421) {
                broken = true;
                return new Reply[] {r1, null};
            }
            return new Reply[] {r1, readReply()};
        } catch (IOException e) {
            broken = true;
            throw e;
        }
    }

    /**
     * Writes the message after a 354: prefix and content dot-stuffed, then {@code .CRLF}, one flush; returns the
     * final reply. Downstream write failures become {@link DownstreamException}; failures reading
     * {@code content} propagate as they are, and leave this connection broken.
     */
    Reply writeData(byte[] prefix, InputStream content) throws IOException, DownstreamException {
        DotStuffingOutputStream data = new DotStuffingOutputStream(out);
        writeDown(data, prefix, prefix.length);
        while (true) {
            int n;
            try {
                n = content.read(readBuffer);
            } catch (IOException clientSide) {
                broken = true; // mid-DATA: the only way out is to drop the connection, so nothing is delivered
                throw clientSide;
            }
            if (n < 0) {
                break;
            }
            writeDown(data, readBuffer, n);
        }
        try {
            data.finish();
            out.flush();
            return readReply();
        } catch (SocketTimeoutException e) {
            broken = true;
            throw new DownstreamException("timeout", "downstream timed out after the message", e);
        } catch (IOException e) {
            broken = true;
            throw new DownstreamException("io", "downstream connection lost after the message: " + e, e);
        }
    }

    private void writeDown(DotStuffingOutputStream data, byte[] b, int len) throws DownstreamException {
        try {
            data.write(b, 0, len);
        } catch (IOException e) {
            broken = true;
            throw new DownstreamException("io", "downstream connection lost while sending the message: " + e, e);
        }
    }

    /** Reads one (possibly multi-line) reply; lines are joined with {@code "; "}. */
    Reply readReply() throws IOException {
        StringBuilder text = null;
        for (int lines = 0; lines < MAX_REPLY_LINES; lines++) {
            String line = readLine();
            if (line.length() < 3 || !digit(line.charAt(0)) || !digit(line.charAt(1))
                    || !digit(line.charAt(2)) || (line.length() > 3 && line.charAt(3) != ' '
                    && line.charAt(3) != '-')) {
                broken = true;
                throw new IOException("malformed reply from downstream: " + truncate(line));
            }
            boolean last = line.length() == 3 || line.charAt(3) == ' ';
            String lineText = line.length() > 4 ? line.substring(4) : "";
            int code = (line.charAt(0) - '0') * 100 + (line.charAt(1) - '0') * 10 + (line.charAt(2) - '0');
            if (last && text == null) {
                return new Reply(code, lineText); // the usual one-line reply: no joining
            }
            if (text == null) {
                text = new StringBuilder(256);
            } else {
                text.append("; ");
            }
            text.append(lineText);
            if (last) {
                return new Reply(code, text.toString());
            }
        }
        broken = true;
        throw new IOException("downstream reply has too many lines");
    }

    /**
     * Reads one line (without its line ending) from {@link #replyBuffer}, refilling it from the socket as needed.
     * Scanning our own buffer instead of calling {@code BufferedInputStream.read()} per byte took this off the
     * profile's hot list (one lock and one call per byte, a StringBuilder per line).
     */
    private String readLine() throws IOException {
        int scanFrom = replyStart;
        while (true) {
            for (int i = scanFrom; i < replyEnd; i++) {
                if (replyBuffer[i] == '\n') {
                    int end = i > replyStart && replyBuffer[i - 1] == '\r' ? i - 1 : i;
                    String line = new String(replyBuffer, replyStart, end - replyStart, StandardCharsets.UTF_8);
                    replyStart = i + 1;
                    return line;
                }
            }
            if (replyEnd - replyStart >= MAX_REPLY_LINE) {
                broken = true;
                throw new IOException("downstream reply line too long");
            }
            if (replyStart > 0) {
                System.arraycopy(replyBuffer, replyStart, replyBuffer, 0, replyEnd - replyStart);
                replyEnd -= replyStart;
                replyStart = 0;
            }
            scanFrom = replyEnd;
            int n = in.read(replyBuffer, replyEnd, replyBuffer.length - replyEnd);
            if (n < 0) {
                broken = true;
                throw new java.io.EOFException("downstream closed the connection");
            }
            replyEnd += n;
        }
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String truncate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    boolean isBroken() {
        return broken || socket == null || socket.isClosed();
    }

    void markBroken() {
        broken = true;
    }

    /** Says QUIT (without waiting long) and closes. */
    void quit() {
        if (!isBroken()) {
            try {
                socket.setSoTimeout(1000);
                command("QUIT");
            } catch (IOException e) {
                // closing anyway
            }
        }
        close();
    }

    @Override
    public void close() {
        broken = true;
        if (watch != null) {
            watch.close();
        }
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}
