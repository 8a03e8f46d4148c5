package io.keyrelay.smtp;

import io.keyrelay.net.DelegatingSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import javax.net.ssl.SSLSocket;
import org.subethamail.smtp.server.Session;

/**
 * The socket a session reads through: its input passes a {@link LineGuard}. Given to the session at accept, and
 * again over TLS after STARTTLS (a TLS socket is layered on the socket below this one, never on the guard).
 */
final class GuardedSocket extends DelegatingSocket {
    private final LineGuard guard;

    /** {@code proxyHeaderFirst}: a PROXY header comes first and passes unchecked (see {@link LineGuard#pass}). */
    GuardedSocket(Socket socket, boolean proxyHeaderFirst) throws IOException {
        super(socket);
        this.guard = new LineGuard(socket.getInputStream(), proxyHeaderFirst);
    }

    @Override
    public InputStream getInputStream() {
        return guard;
    }

    /** The guard of this session's input. */
    static LineGuard guardOf(Session s) {
        if (s.getSocket() instanceof GuardedSocket g) {
            return g.guard;
        }
        throw new IllegalStateException("session socket is not guarded: " + s.getSocket());
    }

    /** The socket under the guard: where TLS is layered. */
    static Socket transport(Session s) {
        return s.getSocket() instanceof GuardedSocket g ? g.delegate() : s.getSocket();
    }

    /** The session's TLS socket, if it has one. */
    static SSLSocket tls(Session s) {
        return DelegatingSocket.innermost(s.getSocket()) instanceof SSLSocket ssl ? ssl : null;
    }
}
