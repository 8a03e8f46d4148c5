package io.keyrelay.smtp;

import io.keyrelay.net.DelegatingSocket;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import javax.net.ssl.SSLSocket;
import org.subethamail.smtp.server.Session;

/**
 * The socket a session reads and writes through: its input passes a {@link LineGuard}, and its replies are counted
 * for the session's {@link SessionBudget} as they leave (so SubEthaSMTP's own replies count too). Given to the
 * session at accept, and again over TLS after STARTTLS (a TLS socket is layered on the socket below this one, never
 * on the guard), with the same budget.
 */
final class GuardedSocket extends DelegatingSocket {
    private final LineGuard guard;
    private final SessionBudget budget;
    private OutputStream out;

    /** {@code proxyHeaderFirst}: a PROXY header comes first and passes unchecked (see {@link LineGuard#pass}). */
    GuardedSocket(Socket socket, SessionBudget budget, boolean proxyHeaderFirst) throws IOException {
        super(socket);
        this.budget = budget;
        this.guard = new LineGuard(socket.getInputStream(), budget, proxyHeaderFirst);
    }

    @Override
    public InputStream getInputStream() {
        return guard;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (out == null) {
            out = new ReplyCounter(delegate.getOutputStream(), budget);
        }
        return out;
    }

    /** The guard of this session's input. */
    static LineGuard guardOf(Session s) {
        return guarded(s).guard;
    }

    /** The budget of this session. */
    static SessionBudget budgetOf(Session s) {
        return guarded(s).budget;
    }

    private static GuardedSocket guarded(Session s) {
        if (s.getSocket() instanceof GuardedSocket g) {
            return g;
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

    /**
     * Notes the code of every reply line that ends a reply ({@code 250 …}, not {@code 250-…}) on its way out: a
     * look at the first four bytes of each line, nothing kept.
     */
    private static final class ReplyCounter extends FilterOutputStream {
        private final SessionBudget budget;
        /** Position in the current line (capped at 4), and the line's first byte. */
        private int column;
        private int first;

        ReplyCounter(OutputStream out, SessionBudget budget) {
            super(out);
            this.budget = budget;
        }

        @Override
        public void write(int b) throws IOException {
            see(b);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                see(b[i]);
            }
            out.write(b, off, len);
        }

        private void see(int b) {
            if (b == '\n') {
                column = 0;
                return;
            }
            if (column == 0) {
                first = b;
            } else if (column == 3 && b != '-') {
                budget.replied(first); // "NNN " or "NNN\r": the last line of a reply
            }
            if (column < 4) {
                column++;
            }
        }
    }
}
