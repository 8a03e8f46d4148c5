package io.keyrelay.smtp;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.subethamail.smtp.server.Session;

/**
 * The SMTP sessions open now, and for each whether it is running a command and whether a mail transaction is under
 * way: what a graceful shutdown needs to close the idle sessions at once and wait for the others.
 *
 * <p>A session is idle between commands. {@link #enter} and {@link #leave} bracket every command; the drain claims
 * an idle session with a compare-and-set, so a session is never closed under a command that has just started.
 */
final class OpenSessions {
    private static final int IDLE = 0;
    private static final int BUSY = 1;
    private static final int CLOSING = 2;

    private static final class State {
        final AtomicInteger phase = new AtomicInteger(IDLE);
        volatile boolean inTransaction;
    }

    private final Map<Session, State> open = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();

    void opened(Session s) {
        open.put(s, new State());
    }

    void closed(Session s) {
        open.remove(s);
        lock.lock();
        try {
            ended.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int size() {
        return open.size();
    }

    /** Marks the session as running a command; false if a drain has claimed it for closing. */
    boolean enter(Session s) {
        State st = open.get(s);
        return st == null || st.phase.compareAndSet(IDLE, BUSY);
    }

    /** Marks the session idle again after a command, remembering whether a transaction is under way. */
    void leave(Session s) {
        State st = open.get(s);
        if (st != null) {
            st.inTransaction = s.isMailTransactionInProgress();
            st.phase.compareAndSet(BUSY, IDLE);
        }
    }

    /**
     * Sends {@code reply} to every session that is idle outside a mail transaction and closes it (RFC 5321
     * section 3.8 allows a server to close with 421 at any time). Returns how many were closed.
     */
    int closeIdle(SmtpReply reply) {
        int n = 0;
        for (Map.Entry<Session, State> e : open.entrySet()) {
            State st = e.getValue();
            if (!st.inTransaction && st.phase.compareAndSet(IDLE, CLOSING)) {
                Session s = e.getKey();
                try {
                    s.sendResponse(reply.line());
                } catch (IOException ignored) {
                    // the client is gone already
                }
                s.quit();
                n++;
            }
        }
        return n;
    }

    /** Waits until no session is open, at most {@code timeout}; true if none is. */
    boolean awaitNone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!open.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                ended.awaitNanos(left); // closed() signals under this lock, so no ending is missed
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
