package io.keyrelay.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.config.RelayConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class LogOutputTest {
    private final LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final Logger logger = ctx.getLogger("io.keyrelay.logging.test");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private OutputStreamAppender<ILoggingEvent> appender;
    private final java.util.Map<OutputStreamAppender<ILoggingEvent>, ch.qos.logback.core.encoder.Encoder<ILoggingEvent>>
            originals = new java.util.HashMap<>();

    @BeforeEach
    void attach() {
        // Remember every appender's encoder so the rest of the test run logs as before.
        for (Logger l : ctx.getLoggerList()) {
            l.iteratorForAppenders().forEachRemaining(a -> {
                if (a instanceof OutputStreamAppender<ILoggingEvent> o) {
                    originals.put(o, o.getEncoder());
                }
            });
        }
        PatternLayoutEncoder plain = new PatternLayoutEncoder();
        plain.setContext(ctx);
        plain.setPattern("%level %logger - %msg%n");
        plain.start();
        appender = new OutputStreamAppender<>();
        appender.setContext(ctx);
        appender.setEncoder(plain);
        appender.setOutputStream(out);
        appender.start();
        logger.addAppender(appender);
        logger.setAdditive(false);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        logger.setAdditive(true);
        appender.stop();
        originals.forEach(OutputStreamAppender::setEncoder);
    }

    private String written() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void node_isPrintedByTheShippedPattern_andCarriedInJsonLines() throws Exception {
        PatternLayoutEncoder shipped = new PatternLayoutEncoder();
        shipped.setContext(ctx);
        shipped.setPattern("%-5level %property{node} [%X{SessionId:-main}] - %msg%n"); // as config/logback.xml
        shipped.start();
        appender.setEncoder(shipped);
        String before = ctx.getProperty(LogOutput.NODE);
        try {
            LogOutput.node("relay-b");
            logger.info("one");
            assertThat(written()).isEqualTo("INFO  relay-b [main] - one" + System.lineSeparator());
            out.reset();
            LogOutput.use(RelayConfig.LogFormat.JSON);
            logger.info("two");
            JsonNode line = new ObjectMapper().readTree(written().lines().findFirst().orElseThrow());
            assertThat(line.at("/context/properties/node").asText()).isEqualTo("relay-b");
        } finally {
            ctx.putProperty(LogOutput.NODE, before == null ? "-" : before);
        }
    }

    @Test
    void plain_leavesTheConfiguredLinesAlone() {
        assertThat(LogOutput.use(RelayConfig.LogFormat.PLAIN)).isZero();
        logger.info("API key created: id={} short_key={}", "k1", "abcd");
        assertThat(written()).isEqualTo("INFO io.keyrelay.logging.test - API key created: id=k1 short_key=abcd"
                + System.lineSeparator());
    }

    @Test
    void json_writesOneObjectPerLine_withLevelLoggerMdcAndTheFormattedMessage() throws Exception {
        assertThat(LogOutput.use(RelayConfig.LogFormat.JSON)).isPositive();
        MDC.put("SessionId", "s-42");
        try {
            logger.info("API key created: id={} short_key={}", "k1", "abcd");
            logger.warn("second line");
        } finally {
            MDC.remove("SessionId");
        }
        List<String> lines = written().lines().toList();
        assertThat(lines).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.get("level").asText()).isEqualTo("INFO");
        assertThat(first.get("loggerName").asText()).isEqualTo("io.keyrelay.logging.test");
        assertThat(first.get("formattedMessage").asText()).isEqualTo("API key created: id=k1 short_key=abcd");
        assertThat(first.get("mdc").get("SessionId").asText()).isEqualTo("s-42");
        assertThat(first.has("timestamp")).isTrue();
        assertThat(first.has("arguments")).as("the message once, not again as arguments").isFalse();
        assertThat(new ObjectMapper().readTree(lines.get(1)).get("level").asText()).isEqualTo("WARN");
        assertThat(LogOutput.use(RelayConfig.LogFormat.JSON)).as("switching twice changes nothing").isZero();
    }
}
