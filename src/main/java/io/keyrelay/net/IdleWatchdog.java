package io.keyrelay.net;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Timeouts for blocking socket reads and writes, kept by one sweeping thread instead of a timer per operation.
 *
 * <p>A socket read with {@code SO_TIMEOUT} set costs a virtual thread a timer: scheduled when the read parks,
 * cancelled when data arrives — on every read. Profiled under load (BENCHMARKS.md) that was over a quarter of the
 * relay's CPU. Here a read or write only notes when it started and that it ended (two stores and a clock read);
 * a sweeper that wakes every {@code timeout / 20} (10 ms to 1 s) finds the ones blocked longer than the timeout
 * and ends them: a read by shutting the socket's input (the reader wakes at once, and the stream turns that into
 * a {@link SocketTimeoutException}, as {@code SO_TIMEOUT} would have), a write by closing the socket. A timeout thus
 * fires between {@code timeout} and {@code timeout + tick} after the operation started.
 *
 * <p>A watch can also hold a few <em>deadlines</em> ({@link Watch#deadline}): points in time by which some phase of
 * the conversation must be over, however busily the peer trickles bytes — a whole command line, a whole message, an
 * authentication. The sweeper ends a socket whose deadline has passed the same way as a late read, and
 * {@link Watch#expiredBy()} tells the reader which one it was. Arming one is a clock read and a store.
 *
 * <p>The sockets watched here must have no {@code SO_TIMEOUT} of their own (or one longer than this timeout).
 */
public final class IdleWatchdog implements AutoCloseable {
    private static final long MIN_TICK = Duration.ofMillis(10).toNanos();
    private static final long MAX_TICK = Duration.ofSeconds(1).toNanos();

    private final long timeoutNanos;
    private final long tickNanos;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Thread sweeper;
    private volatile boolean closed;

    /** Starts the sweeper, a daemon thread named {@code name}. */
    public IdleWatchdog(String name, Duration timeout) {
        this(name, timeout, timeout);
    }

    /**
     * Starts the sweeper for reads and writes timed by {@code timeout} and deadlines no shorter than
     * {@code shortestDeadline}: it wakes every twentieth of the shorter of the two (10 ms to 1 s).
     */
    public IdleWatchdog(String name, Duration timeout, Duration shortestDeadline) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        this.timeoutNanos = timeout.toNanos();
        long finest = Math.min(timeoutNanos, Math.max(1, shortestDeadline.toNanos()));
        this.tickNanos = Math.max(MIN_TICK, Math.min(MAX_TICK, finest / 20));
        this.sweeper = Thread.ofPlatform().daemon().name(name).start(this::sweep);
    }

    /** Watches one connected socket until the watch is closed (or the socket is found closed). */
    public Watch watch(Socket socket) {
        return watch(socket, 0);
    }

    /** Watches one connected socket, with room for {@code deadlines} deadlines (numbered from 0). */
    public Watch watch(Socket socket, int deadlines) {
        Watch w = new Watch(socket, deadlines);
        watches.add(w);
        return w;
    }

    /** Sockets currently watched (for tests). */
    public int watched() {
        return watches.size();
    }

    public Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    private void sweep() {
        while (!closed) {
            LockSupport.parkNanos(tickNanos);
            long now = System.nanoTime();
            for (Watch w : watches) {
                w.check(now);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(sweeper);
        watches.clear();
    }

    /** The blocking operations on one socket. Not for concurrent reads (or concurrent writes) on one socket. */
    public final class Watch implements AutoCloseable {
        /** {@link #expiredBy()} when the socket has not timed out. */
        public static final int NOT_EXPIRED = -2;
        /** {@link #expiredBy()} when a read or a write took longer than the watchdog's timeout. */
        public static final int TIMEOUT = -1;

        private final Socket socket;
        /** {@link System#nanoTime()} when the blocked read began, 0 when no read is in progress. */
        private volatile long readSince;
        private volatile long writeSince;
        /** Per deadline: the {@link System#nanoTime()} it falls at, 0 when not armed. */
        private final AtomicLongArray deadlines;
        private volatile int expiredBy = NOT_EXPIRED;

        private Watch(Socket socket, int deadlines) {
            this.socket = socket;
            this.deadlines = new AtomicLongArray(deadlines);
        }

        /** True once this socket timed out; it is then shut (input) or closed and of no further use. */
        public boolean expired() {
            return expiredBy != NOT_EXPIRED;
        }

        /** {@link #NOT_EXPIRED}, {@link #TIMEOUT}, or the number of the deadline that passed. */
        public int expiredBy() {
            return expiredBy;
        }

        /** Arms deadline {@code n} to fall {@code nanos} from now (replacing what it was). */
        public void deadline(int n, long nanos) {
            long at = System.nanoTime() + nanos;
            deadlines.set(n, at == 0 ? 1 : at);
        }

        /** Disarms deadline {@code n}. */
        public void clear(int n) {
            deadlines.set(n, 0);
        }

        /** True if deadline {@code n} is armed. */
        public boolean armed(int n) {
            return deadlines.get(n) != 0;
        }

        public InputStream wrap(InputStream in) {
            return new WatchedInput(in, this);
        }

        public OutputStream wrap(OutputStream out) {
            return new WatchedOutput(out, this);
        }

        void beginRead() {
            readSince = stamp();
        }

        void endRead() {
            readSince = 0;
        }

        void beginWrite() {
            writeSince = stamp();
        }

        void endWrite() {
            writeSince = 0;
        }

        private static long stamp() {
            long t = System.nanoTime();
            return t == 0 ? 1 : t;
        }

        private void check(long now) {
            if (socket.isClosed()) {
                close();
                return;
            }
            if (expiredBy != NOT_EXPIRED) {
                return;
            }
            long r = readSince;
            long w = writeSince;
            boolean readLate = r != 0 && now - r > timeoutNanos;
            boolean writeLate = w != 0 && now - w > timeoutNanos;
            int cause = readLate || writeLate ? TIMEOUT : NOT_EXPIRED;
            for (int i = 0; cause == NOT_EXPIRED && i < deadlines.length(); i++) {
                long d = deadlines.get(i);
                if (d != 0 && now - d >= 0) {
                    cause = i;
                }
            }
            if (cause == NOT_EXPIRED) {
                return;
            }
            expiredBy = cause; // before the reader wakes, so it can tell why
            try {
                if (writeLate) {
                    socket.close(); // nothing else ends a blocked write
                } else {
                    socket.shutdownInput(); // the reader sees end of stream; the output stays usable for a reply
                }
            } catch (IOException | RuntimeException e) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closed either way
                }
            }
        }

        /** Stops watching (the socket is being closed). Idempotent. */
        @Override
        public void close() {
            watches.remove(this);
        }
    }

    private static SocketTimeoutException timedOut(String what) {
        return new SocketTimeoutException(what + " timed out");
    }

    private static final class WatchedInput extends FilterInputStream {
        private final Watch watch;

        WatchedInput(InputStream in, Watch watch) {
            super(in);
            this.watch = watch;
        }

        @Override
        public int read() throws IOException {
            return Streams.readByte(this, new byte[1]); // not on a hot path: every reader above reads in bulk
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            watch.beginRead();
            int n;
            try {
                n = in.read(b, off, len);
            } catch (IOException e) {
                throw watch.expired() ? timedOut("read") : e;
            } finally {
                watch.endRead();
            }
            if (watch.expired()) {
                throw timedOut("read");
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            long left = n;
            while (left > 0) {
                int r = read(buf, 0, (int) Math.min(left, buf.length));
                if (r < 0) {
                    break;
                }
                left -= r;
            }
            return n - left;
        }
    }

    private static final class WatchedOutput extends FilterOutputStream {
        private final Watch watch;

        WatchedOutput(OutputStream out, Watch watch) {
            super(out);
            this.watch = watch;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            watch.beginWrite();
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw watch.expired() ? timedOut("write") : e;
            } finally {
                watch.endWrite();
            }
        }

        @Override
        public void flush() throws IOException {
            watch.beginWrite();
            try {
                out.flush();
            } catch (IOException e) {
                throw watch.expired() ? timedOut("write") : e;
            } finally {
                watch.endWrite();
            }
        }
    }
}
