package io.keyrelay.bench;

import io.keyrelay.tls.TlsContexts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.HdrHistogram.Histogram;

/**
 * keyrelay's SMTP load generator: runs {@link BenchOptions#connections()} sessions at once, each on its own virtual
 * thread and raw socket, until {@link BenchOptions#sessions()} sessions have sent their messages or the deadline
 * passes, and measures the rate and the latencies.
 *
 * <p>Bounded in count and in time: it sends at most {@code sessions × messages} messages, and at
 * {@link BenchOptions#timeout()} it closes every socket it has open and reports what it got. It refuses a target
 * that is not a loopback address unless told otherwise ({@link TargetGuard}).
 */
public final class LoadGenerator {
    /** Idle sessions are opened this many at a time, so the target's accept backlog is not flooded. */
    private static final int IDLE_OPEN_PARALLELISM = 200;
    private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

    private final BenchOptions o;
    private final InetSocketAddress target;
    private final SSLContext tls;
    private final MessageContent content;
    private final String ehlo = "EHLO bench.keyrelay.invalid";
    private final String authLine;
    private final String mailFrom;
    private final List<String> rcptTo;
    private final Set<BenchConnection> open = ConcurrentHashMap.newKeySet();
    private final BenchErrors errors = new BenchErrors();
    private final AtomicInteger nextSession = new AtomicInteger();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong sessionsOk = new AtomicLong();
    /** What the first TLS session ran on (implementation, protocol, cipher suite), for the report. */
    private final AtomicReference<String> tlsSession = new AtomicReference<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile boolean stopped;

    public LoadGenerator(BenchOptions options) {
        this.o = options;
        this.target = TargetGuard.resolve(options.host(), options.port(), options.allowRemote());
        this.tls = options.tls() == BenchOptions.Tls.NONE ? null
                : options.caFile() != null ? TlsContexts.client(options.caFile(), options.tlsProvider())
                : target.getAddress().isLoopbackAddress() ? TlsContexts.trustingAnyCertificate(options.tlsProvider())
                : TlsContexts.client(null, options.tlsProvider());
        this.content = MessageContent.of(options.size(), options.sender(), "rcpt1@" + options.recipientDomain());
        this.authLine = options.key() == null ? null : "AUTH PLAIN " + Base64.getEncoder().encodeToString(
                ("\0" + options.user() + "\0" + options.key()).getBytes(StandardCharsets.UTF_8));
        this.mailFrom = "MAIL FROM:<" + options.sender() + ">";
        List<String> r = new ArrayList<>(options.recipients());
        for (int i = 1; i <= options.recipients(); i++) {
            r.add("RCPT TO:<rcpt" + i + "@" + options.recipientDomain() + ">");
        }
        this.rcptTo = List.copyOf(r);
    }

    /** Runs the load and returns what was measured. */
    public BenchResult run() throws InterruptedException {
        long deadline = System.nanoTime() + o.timeout().toNanos();
        Thread watchdog = Thread.ofVirtual().name("bench-deadline").start(() -> {
            try {
                if (!stop.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    stopNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<BenchConnection> idle = openIdleSessions();
        Histogram messages = histogram();
        Histogram dataReplies = histogram();
        Histogram auths = histogram();
        long t0 = System.nanoTime();
        try (ExecutorService workers = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("bench-worker-", 0).factory())) {
            List<Worker> all = new ArrayList<>(o.connections());
            for (int i = 0; i < o.connections(); i++) {
                Worker w = new Worker();
                all.add(w);
                workers.execute(w);
            }
            workers.shutdown();
            workers.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
            for (Worker w : all) {
                messages.add(w.messages);
                dataReplies.add(w.dataReplies);
                auths.add(w.auths);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int alive = checkAndClose(idle);
        boolean timedOut = stopped;
        stop.countDown();
        watchdog.join();
        return new BenchResult(o, ok.get(), failed.get(), sessionsOk.get(), seconds, messages, dataReplies, auths,
                errors.total(),
                errors.byStep(), errors.examples(), idle.size(), alive, timedOut, 0, tlsSession.get());
    }

    private static Histogram histogram() {
        return new Histogram(1, HIGHEST_MICROS, 3);
    }

    /** The deadline passed: stop starting anything and unblock every socket. */
    private void stopNow() {
        stopped = true;
        for (BenchConnection c : open) {
            c.close();
        }
    }

    private void failure(String step, Exception e) {
        if (stopped) {
            return; // sockets closed by the deadline: not the target's failure
        }
        if (e instanceof BenchConnection.UnexpectedReply r) {
            errors.record(r.step(), r.reply());
        } else if (e instanceof SocketTimeoutException) {
            errors.record(step, "no reply within " + o.readTimeout().toMillis() + " ms");
        } else {
            errors.record(step, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Connects and gets as far as an authenticated, idle session. */
    private BenchConnection openSession(Histogram authMicros) throws IOException {
        String step = "connect";
        BenchConnection c = new BenchConnection(target, (int) Math.min(o.readTimeout().toMillis(), 30_000),
                (int) Math.min(Integer.MAX_VALUE, o.readTimeout().toMillis()),
                o.tls() == BenchOptions.Tls.IMPLICIT ? tls : null);
        open.add(c);
        try {
            step = "greeting";
            c.greeting();
            step = "EHLO";
            c.command(step, ehlo, 250);
            if (o.tls() == BenchOptions.Tls.STARTTLS) {
                step = "STARTTLS";
                c.startTls(tls, target, ehlo);
            }
            if (tls != null && tlsSession.get() == null) {
                tlsSession.compareAndSet(null, o.tlsProvider().implementation() + ", " + c.tlsSession());
            }
            if (authLine != null) {
                step = "AUTH";
                long a0 = System.nanoTime();
                // 235 per RFC 4954; Postfix's smtp-sink answers 250, so any 2xx counts as accepted
                c.command(step, authLine, 2);
                if (authMicros != null) {
                    authMicros.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, (System.nanoTime() - a0) / 1000)));
                }
            }
            return c;
        } catch (IOException | RuntimeException e) {
            open.remove(c);
            c.close();
            throw new SessionFailed(step, e);
        }
    }

    /** A session could not be opened; remembers the step. */
    private static final class SessionFailed extends IOException {
        private static final long serialVersionUID = 1L;
        final String step;

        SessionFailed(String step, Exception cause) {
            super(step, cause);
            this.step = step;
        }
    }

    private List<BenchConnection> openIdleSessions() throws InterruptedException {
        if (o.idleSessions() == 0) {
            return List.of();
        }
        List<BenchConnection> idle = java.util.Collections.synchronizedList(new ArrayList<>(o.idleSessions()));
        Semaphore parallel = new Semaphore(IDLE_OPEN_PARALLELISM);
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("bench-idle-", 0).factory())) {
            for (int i = 0; i < o.idleSessions() && !stopped; i++) {
                parallel.acquire();
                ex.execute(() -> {
                    try {
                        idle.add(openSession(null));
                    } catch (SessionFailed e) {
                        failure("idle " + e.step, (Exception) e.getCause());
                    } catch (IOException e) {
                        failure("idle", e);
                    } finally {
                        parallel.release();
                    }
                });
            }
        }
        return idle;
    }

    /** Asks every idle session for a NOOP (it must still answer), then quits them all; returns how many answered. */
    private int checkAndClose(List<BenchConnection> idle) throws InterruptedException {
        if (idle.isEmpty()) {
            return 0;
        }
        AtomicInteger alive = new AtomicInteger();
        Semaphore parallel = new Semaphore(IDLE_OPEN_PARALLELISM);
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("bench-idle-", 0).factory())) {
            for (BenchConnection c : idle) {
                parallel.acquire();
                ex.execute(() -> {
                    try {
                        c.command("NOOP", "NOOP", 250);
                        alive.incrementAndGet();
                    } catch (IOException e) {
                        failure("idle NOOP", e);
                    } finally {
                        c.quit();
                        open.remove(c);
                        parallel.release();
                    }
                });
            }
        }
        return alive.get();
    }

    /** One of the concurrent connections: runs sessions until there are none left to run. */
    private final class Worker implements Runnable {
        final Histogram messages = histogram();
        final Histogram dataReplies = histogram();
        final Histogram auths = histogram();

        @Override
        public void run() {
            while (!stopped && nextSession.getAndIncrement() < o.sessions()) {
                session();
            }
        }

        private void session() {
            BenchConnection c;
            try {
                c = openSession(auths);
            } catch (SessionFailed e) {
                failure(e.step, (Exception) e.getCause());
                return;
            } catch (IOException e) {
                failure("connect", e);
                return;
            }
            try {
                for (int m = 0; m < o.messagesPerSession() && !stopped; m++) {
                    if (!message(c)) {
                        return;
                    }
                }
                sessionsOk.incrementAndGet();
                c.quit();
            } finally {
                open.remove(c);
                c.close();
            }
        }

        /** One transaction; false if the connection is no longer usable. */
        private boolean message(BenchConnection c) {
            String step = "MAIL FROM";
            long t0 = System.nanoTime();
            try {
                c.command(step, mailFrom, 250);
                step = "RCPT TO";
                for (String r : rcptTo) {
                    c.command(step, r, 250);
                }
                step = "DATA";
                c.command(step, "DATA", 354);
                step = "end of data";
                long d0 = System.nanoTime();
                c.data(content);
                long end = System.nanoTime();
                messages.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, (end - t0) / 1000)));
                dataReplies.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, (end - d0) / 1000)));
                ok.incrementAndGet();
                return true;
            } catch (BenchConnection.UnexpectedReply r) {
                failed.incrementAndGet();
                failure(step, r);
                if (r.reply().startsWith("421")) {
                    return false;
                }
                try {
                    // DATA refused before content, or a refused recipient/sender: start over with RSET
                    if (!step.equals("end of data")) {
                        c.command("RSET", "RSET", 250);
                    }
                    return true;
                } catch (IOException e) {
                    failure("RSET", e);
                    return false;
                }
            } catch (SocketException | SocketTimeoutException e) {
                failed.incrementAndGet();
                failure(step, e);
                return false;
            } catch (IOException e) {
                failed.incrementAndGet();
                failure(step, e);
                return false;
            }
        }
    }

}
