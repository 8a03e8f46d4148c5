package io.keyrelay.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.concurrent.CountDownLatch;

/**
 * A listening socket (plain or TLS) that can stop accepting before its SubEthaSMTP server stops.
 *
 * <p>{@code SMTPServer.stop()} closes the listener and every open session at once; a graceful shutdown needs the
 * listener closed first — so load balancers and clients see the port gone and go elsewhere — while the sessions
 * finish. {@link #stopAccepting()} closes the real socket; the accept thread then waits here, quietly, until the
 * server's own {@code stop()} closes this one (without the wait, SubEthaSMTP's accept loop would log an error and
 * retry every second).
 *
 * @see org.subethamail.smtp.server.SMTPServer
 */
final class DrainableServerSocket extends ServerSocket {
    private final ServerSocket socket;
    private final Wrapper wrap;
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean accepting = true;

    /** What every accepted socket is wrapped in before the library sees it. */
    @FunctionalInterface
    interface Wrapper {
        Socket wrap(Socket accepted) throws IOException;
    }

    /** {@code wrap} is applied to every accepted socket (timed reads, checked command lines). */
    DrainableServerSocket(ServerSocket socket, Wrapper wrap) throws IOException {
        this.socket = socket;
        this.wrap = wrap;
    }

    /** Closes the listening socket; new connections are refused by the system from now on. */
    void stopAccepting() {
        accepting = false;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    boolean accepting() {
        return accepting && !socket.isClosed();
    }

    @Override
    public Socket accept() throws IOException {
        if (accepting) {
            try {
                while (true) {
                    Socket accepted = socket.accept();
                    try {
                        return wrap.wrap(accepted);
                    } catch (IOException e) {
                        accepted.close(); // gone already; take the next one
                    }
                }
            } catch (IOException e) {
                if (accepting) {
                    throw e;
                }
            }
        }
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new SocketException("Socket is closed");
    }

    @Override
    public void close() throws IOException {
        accepting = false;
        try {
            socket.close();
        } finally {
            closed.countDown();
        }
    }

    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
        socket.bind(endpoint, backlog);
    }

    @Override
    public void bind(SocketAddress endpoint) throws IOException {
        socket.bind(endpoint);
    }

    @Override
    public int getLocalPort() {
        return socket.getLocalPort();
    }

    @Override
    public InetAddress getInetAddress() {
        return socket.getInetAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return socket.getLocalSocketAddress();
    }

    @Override
    public boolean isBound() {
        return socket.isBound();
    }

    @Override
    public boolean isClosed() {
        return closed.getCount() == 0;
    }

    @Override
    public String toString() {
        return socket.toString();
    }
}
