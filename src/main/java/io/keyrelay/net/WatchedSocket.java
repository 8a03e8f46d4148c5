package io.keyrelay.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * An accepted socket whose reads and writes are timed by an {@link IdleWatchdog} rather than by
 * {@code SO_TIMEOUT}. Everything else is passed to the real socket, so a TLS socket can be layered on top of it
 * (STARTTLS) and its records are read through the watched stream too. Closing it stops the watch.
 */
public final class WatchedSocket extends DelegatingSocket {
    private final IdleWatchdog.Watch watch;
    private InputStream in;
    private OutputStream out;

    public WatchedSocket(Socket socket, IdleWatchdog watchdog) {
        this(socket, watchdog, 0);
    }

    /** A watched socket with room for {@code deadlines} deadlines ({@link IdleWatchdog.Watch#deadline}). */
    public WatchedSocket(Socket socket, IdleWatchdog watchdog, int deadlines) {
        super(socket);
        this.watch = watchdog.watch(socket, deadlines);
    }

    /** The watch timing this socket. */
    public IdleWatchdog.Watch watch() {
        return watch;
    }

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (in == null) {
            in = watch.wrap(delegate.getInputStream());
        }
        return in;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (out == null) {
            out = watch.wrap(delegate.getOutputStream());
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            delegate.close();
        } finally {
            watch.close();
        }
    }
}
