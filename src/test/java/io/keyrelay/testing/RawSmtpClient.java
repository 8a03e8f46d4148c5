package io.keyrelay.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * An SMTP client on a raw socket, for tests that need exact bytes on the wire: protocol abuse, byte-for-byte
 * relaying, binding to a chosen local address. Every read has a timeout, so a test never hangs.
 */
public final class RawSmtpClient implements AutoCloseable {
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    /** A reply: code, and its lines' texts. */
    public record Reply(int code, List<String> lines) {
        public String text() {
            return String.join("\n", lines);
        }

        public String last() {
            return lines.get(lines.size() - 1);
        }

        public Reply assertCode(int expected) {
            assertThat(code).as("reply %s", this).isEqualTo(expected);
            return this;
        }

        @Override
        public String toString() {
            return code + " " + String.join(" | ", lines);
        }
    }

    private RawSmtpClient(Socket socket) throws IOException {
        this.socket = socket;
        streams();
    }

    public static RawSmtpClient connect(String host, int port, String localAddress) {
        try {
            Socket s = new Socket();
            if (localAddress != null) {
                s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            }
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(20_000);
            s.setTcpNoDelay(true);
            return new RawSmtpClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Wraps a connection that speaks TLS from the first byte (implicit TLS). */
    public static RawSmtpClient connectTls(String host, int port, SSLContext tls) {
        return connectTls(host, port, tls, null);
    }

    /** Implicit TLS from the given local (loopback) address; null lets the system choose. */
    public static RawSmtpClient connectTls(String host, int port, SSLContext tls, String localAddress) {
        try {
            Socket plain = new Socket();
            if (localAddress != null) {
                plain.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            }
            plain.connect(new InetSocketAddress(host, port), 5000);
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
            s.setSoTimeout(20_000);
            s.startHandshake();
            return new RawSmtpClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void streams() throws IOException {
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    public Reply expect(int code) {
        return read().assertCode(code);
    }

    public Reply ehlo() {
        return command("EHLO client.test").assertCode(250);
    }

    public Reply command(String line) {
        send(line);
        return read();
    }

    /** Sends one line (CRLF added) without reading a reply. */
    public void send(String line) {
        write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    public void write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void startTls(SSLContext tls) {
        command("STARTTLS").assertCode(220);
        handshake(tls);
    }

    /** Starts TLS on this connection now (after the server's 220 to STARTTLS, read by the caller). */
    public void handshake(SSLContext tls) {
        try {
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            s.setUseClientMode(true);
            s.startHandshake();
            socket = s;
            streams();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String plain(String user, String secret) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + secret).getBytes(StandardCharsets.UTF_8));
    }

    public static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** MAIL, RCPT for each recipient (each must be accepted), DATA with the content dot-stuffed; returns the final reply. */
    public Reply send(String from, List<String> to, byte[] content) {
        command("MAIL FROM:<" + from + ">").assertCode(250);
        for (String r : to) {
            command("RCPT TO:<" + r + ">").assertCode(250);
        }
        command("DATA").assertCode(354);
        write(stuff(content));
        return read();
    }

    /** Dot-stuffs content (after CRLF and at the start) and appends the terminator. */
    public static byte[] stuff(byte[] content) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(content.length + 16);
        int prev1 = '\r';
        int prev2 = '\n';
        for (byte c : content) {
            if (c == '.' && prev1 == '\r' && prev2 == '\n') {
                b.write('.');
            }
            b.write(c);
            prev1 = prev2;
            prev2 = c;
        }
        if (!(prev1 == '\r' && prev2 == '\n')) {
            b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        b.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    public Reply read() {
        try {
            List<String> lines = new ArrayList<>();
            while (true) {
                String line = readLine();
                if (line == null) {
                    throw new IOException("connection closed while waiting for a reply (got " + lines + ")");
                }
                if (line.length() < 3) {
                    throw new IOException("malformed reply line: " + line);
                }
                lines.add(line.length() > 4 ? line.substring(4) : "");
                if (line.length() == 3 || line.charAt(3) == ' ') {
                    return new Reply(Integer.parseInt(line.substring(0, 3)), lines);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.UTF_8);
            }
            b.write(c);
        }
        return null;
    }

    /** True if the server closed the connection (reads EOF within the timeout). */
    public boolean closedByServer() {
        try {
            socket.setSoTimeout(5000);
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset counts as closed
        }
    }

    /**
     * True if the server closed the connection within the timeout, whatever it sent first (a TLS alert, say,
     * which is not an SMTP reply).
     */
    public boolean closedByServerAfterAnyBytes() {
        try {
            socket.setSoTimeout(5000);
            while (in.read() != -1) {
                // discard
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
