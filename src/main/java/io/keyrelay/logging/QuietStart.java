package io.keyrelay.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/**
 * Holds one logger at WARN for a while and then gives it back its level: dev mode holds keyrelay's start-up lines
 * ("SMTP listening on …", "admin server listening on …", "API key created …") until its banner, which says all
 * of that, has been printed — so the banner is the first thing a newcomer sees. Warnings and errors still show.
 */
public final class QuietStart implements AutoCloseable {
    private final Logger logger;
    private final Level previous;

    private QuietStart(Logger logger, Level previous) {
        this.logger = logger;
        this.previous = previous;
    }

    /** Raises {@code name} to WARN if it would log below that; {@link #close()} restores it. */
    public static QuietStart hold(String name) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return new QuietStart(null, null);
        }
        Logger l = ctx.getLogger(name);
        Level previous = l.getLevel(); // null: inherited
        if (!l.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
            l.setLevel(Level.WARN);
            return new QuietStart(l, previous);
        }
        return new QuietStart(null, null);
    }

    @Override
    public void close() {
        if (logger != null) {
            logger.setLevel(previous);
        }
    }
}
