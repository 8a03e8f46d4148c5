package io.keyrelay.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one load-generator run measured: messages accepted and refused, the wall time of the measured part and the
 * rate, per-message latency (MAIL FROM sent to the final reply after DATA) and AUTH latency (AUTH sent to its
 * reply) as percentiles, and the reply to the message itself (the content sent after the 354 to the final reply: in
 * queue mode, the store's commit) as percentiles, the failures with their first replies, and the idle sessions held open.
 * {@code warmupMessagesOk} counts the unmeasured warm-up's messages, so CPU time measured around the whole command
 * can be divided by every message sent.
 */
public record BenchResult(
        BenchOptions options,
        long messagesOk,
        long messagesFailed,
        long sessionsOk,
        double seconds,
        Histogram messageMicros,
        Histogram dataReplyMicros,
        Histogram authMicros,
        long errors,
        Map<String, Long> errorsByStep,
        List<String> errorExamples,
        int idleOpened,
        int idleAliveAtEnd,
        boolean timedOut,
        long warmupMessagesOk,
        String tlsSession) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** This result with the warm-up's message count. */
    public BenchResult withWarmup(long messages) {
        return new BenchResult(options, messagesOk, messagesFailed, sessionsOk, seconds, messageMicros, dataReplyMicros, authMicros, errors,
                errorsByStep, errorExamples, idleOpened, idleAliveAtEnd, timedOut, messages, tlsSession);
    }

    public double messagesPerSecond() {
        return seconds <= 0 ? 0 : messagesOk / seconds;
    }

    /** True when every planned message was accepted, every idle session survived, and nothing failed. */
    public boolean clean() {
        return errors == 0 && !timedOut && messagesOk == options.plannedMessages()
                && idleAliveAtEnd == options.idleSessions();
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static double maxMs(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0;
    }

    /** One JSON object; every field name is stable (scripts read them). */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("target", options.host() + ":" + options.port());
        o.put("tls", options.tls().name().toLowerCase(Locale.ROOT));
        boolean withTls = options.tls() != BenchOptions.Tls.NONE;
        o.put("tls_provider", withTls ? options.tlsProvider().label() : null);
        o.put("tls_session", tlsSession);
        o.put("connections", options.connections());
        o.put("sessions", options.sessions());
        o.put("messages_per_session", options.messagesPerSession());
        o.put("size", options.size());
        o.put("recipients", options.recipients());
        o.put("auth", options.key() != null);
        o.put("idle_sessions", options.idleSessions());
        o.put("messages_planned", options.plannedMessages());
        o.put("messages_ok", messagesOk);
        o.put("messages_failed", messagesFailed);
        o.put("sessions_ok", sessionsOk);
        o.put("seconds", round(seconds, 3));
        o.put("messages_per_second", round(messagesPerSecond(), 1));
        ObjectNode m = o.putObject("message_ms");
        m.put("count", messageMicros.getTotalCount());
        m.put("p50", round(ms(messageMicros, 50), 3));
        m.put("p99", round(ms(messageMicros, 99), 3));
        m.put("max", round(maxMs(messageMicros), 3));
        m.put("mean", round(messageMicros.getTotalCount() == 0 ? 0 : messageMicros.getMean() / 1000.0, 3));
        ObjectNode d = o.putObject("data_reply_ms");
        d.put("count", dataReplyMicros.getTotalCount());
        d.put("p50", round(ms(dataReplyMicros, 50), 3));
        d.put("p99", round(ms(dataReplyMicros, 99), 3));
        d.put("max", round(maxMs(dataReplyMicros), 3));
        ObjectNode a = o.putObject("auth_ms");
        a.put("count", authMicros.getTotalCount());
        a.put("p50", round(ms(authMicros, 50), 3));
        a.put("p99", round(ms(authMicros, 99), 3));
        a.put("max", round(maxMs(authMicros), 3));
        ObjectNode e = o.putObject("errors");
        e.put("total", errors);
        ObjectNode by = e.putObject("by_step");
        errorsByStep.forEach(by::put);
        var first = e.putArray("first");
        errorExamples.forEach(first::add);
        o.put("idle_opened", idleOpened);
        o.put("idle_alive_at_end", idleAliveAtEnd);
        o.put("timed_out", timedOut);
        o.put("warmup_messages_ok", warmupMessagesOk);
        o.put("clean", clean());
        return o.toString();
    }

    /** A few readable lines. */
    public String toText() {
        StringBuilder b = new StringBuilder(512);
        b.append(String.format(Locale.ROOT, "target        %s:%d (%s)%n", options.host(), options.port(),
                options.tls().name().toLowerCase(Locale.ROOT)));
        if (tlsSession != null) {
            b.append(String.format(Locale.ROOT, "tls           %s%n", tlsSession));
        }
        b.append(String.format(Locale.ROOT, "load          %d connections, %d sessions x %d messages x %d bytes, %d recipient%s%s%n",
                options.connections(), options.sessions(), options.messagesPerSession(), options.size(),
                options.recipients(), options.recipients() == 1 ? "" : "s",
                options.idleSessions() > 0 ? ", " + options.idleSessions() + " idle sessions held open" : ""));
        b.append(String.format(Locale.ROOT, "messages      %d ok, %d failed, of %d planned%s%n", messagesOk, messagesFailed,
                options.plannedMessages(), timedOut ? " (stopped at --timeout)" : ""));
        b.append(String.format(Locale.ROOT, "rate          %.1f messages/s over %.3f s%n", messagesPerSecond(), seconds));
        b.append(String.format(Locale.ROOT, "message ms    p50 %.3f  p99 %.3f  max %.3f%n", ms(messageMicros, 50),
                ms(messageMicros, 99), maxMs(messageMicros)));
        b.append(String.format(Locale.ROOT, "reply to DATA p50 %.3f  p99 %.3f  max %.3f%n", ms(dataReplyMicros, 50),
                ms(dataReplyMicros, 99), maxMs(dataReplyMicros)));
        if (authMicros.getTotalCount() > 0) {
            b.append(String.format(Locale.ROOT, "AUTH ms       p50 %.3f  p99 %.3f  max %.3f  (%d)%n", ms(authMicros, 50),
                    ms(authMicros, 99), maxMs(authMicros), authMicros.getTotalCount()));
        }
        if (options.idleSessions() > 0) {
            b.append(String.format(Locale.ROOT, "idle sessions %d opened, %d still answering at the end%n", idleOpened,
                    idleAliveAtEnd));
        }
        b.append(String.format(Locale.ROOT, "errors        %d%s%n", errors, errors == 0 ? "" : " " + errorsByStep));
        for (String ex : errorExamples) {
            b.append("  ").append(ex).append(System.lineSeparator());
        }
        return b.toString();
    }

    private static double round(double v, int places) {
        double f = Math.pow(10, places);
        return Math.round(v * f) / f;
    }
}
