package io.keyrelay.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import io.keyrelay.config.RelayConfig;
import java.util.Iterator;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code log.format} to Logback once the configuration has been read: {@code plain} keeps the lines the
 * Logback configuration file describes; {@code json} makes every console and file appender write one JSON object
 * per line with Logback's built-in {@link JsonEncoder} (timestamp, level, thread, logger, MDC such as the SMTP
 * session id, the formatted message and any exception). Logback reads its file before keyrelay reads its own,
 * so the format is switched here rather than in the XML.
 */
public final class LogOutput {
    /** The Logback context property that names this node; the shipped patterns print it ({@code %property{node}}). */
    public static final String NODE = "node";

    private LogOutput() {}

    /**
     * Names this node ({@code cluster.node_name}) in every line logged from now on: plain lines print it after the
     * level, JSON lines carry it as {@code context.properties.node}. A context property rather than MDC, because
     * MDC is per thread and the relay's lines come from many.
     */
    public static void node(String name) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.putProperty(NODE, name);
        }
    }

    /** Switches every stream appender to {@code format}; returns how many appenders were switched. */
    public static int use(RelayConfig.LogFormat format) {
        if (format != RelayConfig.LogFormat.JSON || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return 0;
        }
        int switched = 0;
        for (Logger logger : ctx.getLoggerList()) {
            for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof OutputStreamAppender<ILoggingEvent> a && !(a.getEncoder() instanceof JsonEncoder)) {
                    // Swapped in place, without stop()/start(): stopping closes the appender's stream, which a
                    // plain OutputStreamAppender could not reopen. Lines already written stay as they were.
                    a.setEncoder(jsonEncoder(ctx));
                    switched++;
                }
            }
        }
        return switched;
    }

    private static JsonEncoder jsonEncoder(LoggerContext ctx) {
        JsonEncoder e = new JsonEncoder();
        e.setContext(ctx);
        // One self-contained object per event: the formatted message, without the raw pattern and arguments
        // (which would repeat it); the logger context for the node's name.
        e.setWithFormattedMessage(true);
        e.setWithMessage(false);
        e.setWithArguments(false);
        e.setWithContext(true); // its properties hold the node's name (node())
        e.setWithSequenceNumber(false);
        e.setWithNanoseconds(false);
        e.start();
        return e;
    }
}
