package io.keyrelay.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import java.net.URL;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Logback configurations keyrelay ships: they load cleanly and keep secret-printing loggers quiet. */
class ShippedLogConfigTest {
    @ParameterizedTest
    @ValueSource(strings = {"config/logback.xml", "src/main/resources/logback.xml"})
    void loadsWithoutErrors_keepsKeyrelayAtInfoAndLibrariesAtWarn_andNeverLetsSubEthaSmtpOrJettyLogBelowInfo(String file) throws Exception {
        LoggerContext ctx = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(ctx);
        URL url = Path.of(file).toUri().toURL();
        configurator.doConfigure(url);
        assertThat(ctx.getStatusManager().getCopyOfStatusList()).noneMatch(s -> s.getLevel() >= Status.WARN);
        // At DEBUG SubEthaSMTP prints "AUTH PLAIN <base64 key>" and Jetty prints request headers.
        for (String name : new String[] {"org.subethamail", "org.subethamail.smtp.internal.server.Session",
            "org.eclipse.jetty", "org.eclipse.jetty.server.HttpChannel"}) {
            assertThat(ctx.getLogger(name).getEffectiveLevel().isGreaterOrEqual(Level.INFO)).as(name).isTrue();
        }
        assertThat(ctx.getLogger("io.keyrelay").getEffectiveLevel()).isEqualTo(Level.INFO);
        // The libraries' start-up chatter (Jetty contexts, Javalin's static files, "Javalin started") stays out.
        for (String name : new String[] {"org.eclipse.jetty.server.Server", "io.javalin.Javalin",
            "org.subethamail.smtp.server.SMTPServer", "com.zaxxer.hikari.HikariDataSource", "org.flywaydb.core",
            "org.h2", "some.other.library"}) {
            assertThat(ctx.getLogger(name).getEffectiveLevel()).as(name).isEqualTo(Level.WARN);
        }
        ctx.stop();
    }
}
