package io.keyrelay.smtp;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.IdleWatchdog;
import org.subethamail.smtp.server.Session;

/**
 * What one SMTP session may still spend before it is closed with {@code 421 4.7.0}: error replies
 * ({@code smtp.hard_error_limit}), junk commands ({@code smtp.junk_command_limit}) and time — a deadline for each
 * command line, for the envelope, for the message, for the authentication and for a PROXY header.
 *
 * <p>The deadlines are kept by the session's {@link IdleWatchdog.Watch}, which already times every read: arming
 * one is a clock read and a store, and the watchdog's one sweeping thread ends a socket whose deadline has passed
 * as it ends a read that waited too long (no timer per read or per line). The session then learns why at its next
 * read: {@link LineGuard} hands the library a marker line instead of a command ({@link #closingMarker()}), and
 * keyrelay's {@link Commands.Closing} command answers it with the matching reply and closes — the same path whether
 * the client was trickling a line, idling in a transaction, or had run out of errors. Errors are counted where the
 * replies leave ({@link GuardedSocket}), so the library's own replies (an unknown command) count too.
 *
 * <p>Used by the session's own thread only, but for the reply counter, which another thread's {@code 421} (the
 * graceful shutdown's) may bump once before the connection closes.
 */
final class SessionBudget {
    /** The deadlines a session's watch holds, numbered by ordinal. */
    enum Deadline {
        /** A trusted proxy's PROXY header ({@code smtp.proxy_timeout}), from accept. */
        PROXY,
        /** Authentication ({@code smtp.auth_timeout}), from accept. */
        AUTH,
        /** One command line ({@code smtp.command_timeout}), from when the relay waits for it. */
        COMMAND,
        /** MAIL FROM to the DATA command ({@code smtp.transaction_timeout}). */
        TRANSACTION,
        /** The message, 354 to its end ({@code smtp.data_timeout}). */
        DATA
    }

    static final int DEADLINES = Deadline.values().length;

    /** Markers {@link LineGuard} hands out instead of a line when the session must close (see {@link Commands}). */
    static final String OUT_OF_ERRORS = "\0ERR";
    static final String COMMAND_LATE = "\0CMD";
    static final String AUTH_LATE = "\0ATH";
    static final String TRANSACTION_LATE = "\0TRX";

    private final RelayConfig.SessionLimits limits;
    private final IdleWatchdog.Watch watch;
    private final long commandNanos;
    private int errors;
    private int junk;
    private int overshoot;
    /** Refused recipients past the key's limit that do not count as errors (Postfix's default, 1000). */
    static final int RECIPIENT_OVERSHOOT = 1000;
    private boolean lineTimed;

    /** A budget for a session read through {@code watch} (null: no deadlines, as in unit tests). */
    SessionBudget(RelayConfig.SessionLimits limits, IdleWatchdog.Watch watch, boolean proxyHeaderFirst) {
        this.limits = limits;
        this.watch = watch;
        this.commandNanos = limits.commandTimeout().toNanos();
        arm(Deadline.AUTH, limits.authTimeout().toNanos());
        if (proxyHeaderFirst) {
            arm(Deadline.PROXY, limits.proxyTimeout().toNanos());
        }
    }

    /** A budget that never runs out: no watch, so no deadlines, and no error limit to speak of. */
    static SessionBudget unlimited() {
        java.time.Duration day = java.time.Duration.ofDays(1);
        return new SessionBudget(new RelayConfig.SessionLimits(0, 0, day, day, day, day, day, day, Integer.MAX_VALUE,
                Integer.MAX_VALUE), null, false);
    }

    /** The budget of a session's connection. */
    static SessionBudget of(Session s) {
        return GuardedSocket.budgetOf(s);
    }

    private void arm(Deadline d, long nanos) {
        if (watch != null) {
            watch.deadline(d.ordinal(), nanos);
        }
    }

    private void clear(Deadline d) {
        if (watch != null) {
            watch.clear(d.ordinal());
        }
    }

    // ---- time ----

    /** The relay is about to wait for (more of) a command line: its deadline runs from now, once per line. */
    void lineWaiting() {
        if (!lineTimed) {
            lineTimed = true;
            arm(Deadline.COMMAND, commandNanos);
        }
    }

    /** A whole command line is in (or has been replaced by a marker). */
    void lineRead() {
        if (lineTimed) {
            lineTimed = false;
            clear(Deadline.COMMAND);
        }
    }

    void proxyHeaderRead() {
        clear(Deadline.PROXY);
    }

    /** True if the PROXY header's deadline is what ended the connection. */
    boolean proxyLate() {
        return expiredBy(Deadline.PROXY);
    }

    void authenticated() {
        clear(Deadline.AUTH);
    }

    /** MAIL FROM was accepted: the envelope's deadline runs. */
    void transactionStarted() {
        arm(Deadline.TRANSACTION, limits.transactionTimeout().toNanos());
    }

    /** DATA was answered 354: the message's deadline replaces the envelope's. */
    void dataStarted() {
        clear(Deadline.TRANSACTION);
        arm(Deadline.DATA, limits.dataTimeout().toNanos());
    }

    /** The transaction is over, however it ended. */
    void transactionEnded() {
        clear(Deadline.TRANSACTION);
        clear(Deadline.DATA);
    }

    /** True if the message's deadline is what ended the connection. */
    boolean dataLate() {
        return expiredBy(Deadline.DATA);
    }

    private boolean expiredBy(Deadline d) {
        return watch != null && watch.expiredBy() == d.ordinal();
    }

    // ---- errors and junk ----

    /** A reply with this first digit went to the client. */
    void replied(int firstDigit) {
        if (firstDigit == '4' || firstDigit == '5') {
            errors++;
        }
    }

    /**
     * NOOP, RSET, HELP, VRFY or EXPN: harmless one at a time, but a session that sends nothing else holds a slot
     * (and, inside a transaction, its downstream connection) for free. Past the limit each counts as an error.
     */
    void junkCommand() {
        if (++junk > limits.junkCommandLimit()) {
            errors++;
        }
    }

    /**
     * The {@code 452 4.5.3 Too many recipients} just sent is no error (RFC 5321 section 4.5.3.1.10: the client
     * sends the rest in another transaction) for the first {@link #RECIPIENT_OVERSHOOT} of a session, as Postfix's
     * {@code smtpd_recipient_overshoot_limit}; past that, each one counts.
     */
    void recipientOvershoot() {
        if (++overshoot <= RECIPIENT_OVERSHOOT && errors > 0) {
            errors--;
        }
    }

    /** A message was delivered: the session has been useful, and both counts start again (as Postfix's). */
    void delivered() {
        errors = 0;
        junk = 0;
        overshoot = 0;
    }

    int errors() {
        return errors;
    }

    /**
     * The marker line that ends this session now, or null while it may go on: a deadline passed (the watch ended
     * the socket's input), or the errors reached {@code smtp.hard_error_limit}. Once non-null it stays so.
     */
    String closingMarker() {
        if (watch != null) {
            int by = watch.expiredBy();
            if (by == Deadline.COMMAND.ordinal()) {
                return COMMAND_LATE;
            }
            if (by == Deadline.AUTH.ordinal()) {
                return AUTH_LATE;
            }
            if (by == Deadline.TRANSACTION.ordinal()) {
                return TRANSACTION_LATE;
            }
        }
        return errors >= limits.hardErrorLimit() ? OUT_OF_ERRORS : null;
    }

    /** The reply for a closing marker, or null if {@code line} is none. */
    static SmtpReply closingReply(String line) {
        return switch (line) {
            case OUT_OF_ERRORS -> SmtpReply.TOO_MANY_ERRORS;
            case COMMAND_LATE -> SmtpReply.COMMAND_TIMEOUT;
            case AUTH_LATE -> SmtpReply.AUTH_TIMEOUT;
            case TRANSACTION_LATE -> SmtpReply.TRANSACTION_TIMEOUT;
            default -> null;
        };
    }
}
