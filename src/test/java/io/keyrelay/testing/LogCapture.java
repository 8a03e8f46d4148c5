package io.keyrelay.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects what a logger writes during a test, to assert on log lines (and on what they must never contain). While
 * capturing, the logger logs at INFO at least: CLI commands run in the same test JVM turn the root logger and
 * {@code io.keyrelay} down to WARN, as they do for operators — so capturing the root also holds {@code io.keyrelay}
 * at INFO.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level levelBefore;
    /** io.keyrelay, when the root is captured: its own level would otherwise decide for all of keyrelay's lines. */
    private final Logger ours;
    private final Level oursBefore;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(Logger logger) {
        this.logger = logger;
        this.levelBefore = logger.getLevel();
        if (logger.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
            logger.setLevel(Level.INFO);
        }
        if (logger.getName().equals(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
            ours = (Logger) LoggerFactory.getLogger("io.keyrelay");
            oursBefore = ours.getLevel();
            if (ours.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
                ours.setLevel(Level.INFO);
            }
        } else {
            ours = null;
            oursBefore = null;
        }
        appender.start();
        logger.addAppender(appender);
    }

    /** Captures a logger and its children (e.g. "io.keyrelay" for everything of ours, or "" for the root). */
    public static LogCapture of(String loggerName) {
        return new LogCapture((Logger) LoggerFactory.getLogger(loggerName.isEmpty() ? org.slf4j.Logger.ROOT_LOGGER_NAME
                : loggerName));
    }

    public List<String> messages() {
        return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    public String all() {
        return String.join("\n", messages());
    }

    /** The lines logged at {@code level} or above, with their logger names. */
    public List<String> atLeast(Level level) {
        return events().stream().filter(e -> e.getLevel().isGreaterOrEqual(level))
                .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage()).toList();
    }

    /** A copy of what was captured: the appender adds under its own lock while the relay's threads still log. */
    private List<ILoggingEvent> events() {
        synchronized (appender) {
            return new ArrayList<>(appender.list);
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(levelBefore);
        if (ours != null) {
            ours.setLevel(oursBefore);
        }
    }
}
