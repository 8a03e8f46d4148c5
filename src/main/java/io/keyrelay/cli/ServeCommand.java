package io.keyrelay.cli;

import io.keyrelay.config.ConfigException;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.logging.LogOutput;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code keyrelay serve}: run the relay as configured. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the relay: SMTP listeners authenticating with API keys, relaying to downstream.host.")
final class ServeCommand extends ConfigOption implements Callable<Integer>, Main.LongRunning {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        RelayConfig config = config();
        if (!config.downstream().configured()) {
            throw new ConfigException(Setting.DOWNSTREAM_HOST.key(),
                    "is required for serve (" + spec.root().name() + " dev writes mail to a folder instead)");
        }
        if (!config.smtp().tls().enabled() && config.smtp().auth().plaintext() == RelayConfig.PlaintextAuth.NEVER) {
            throw new ConfigException(Setting.SMTP_TLS_CERT.key(), "is required: with smtp.auth.plaintext=never,"
                    + " AUTH is only possible over TLS");
        }
        rawConfig().warnings().forEach(w -> spec.commandLine().getErr().println("keyrelay: warning: " + w));
        LogOutput.node(config.cluster().nodeName());
        LogOutput.use(config.log().format());
        StopRequest stop = listenForStop();
        runUntilStopped(new RelayRuntime(config, null), stop);
        return 0;
    }

    /**
     * A request to stop: SIGTERM or SIGINT. Listen for it <em>before</em> the relay starts, so a signal that arrives
     * while it is starting (its port may already accept connections) is honoured once it has started, instead of
     * falling through to the JVM's default handling.
     */
    static final class StopRequest {
        private final CountDownLatch signalled = new CountDownLatch(1);
        private final boolean handled;

        private StopRequest() {
            this.handled = StopSignals.install(signalled::countDown);
        }
    }

    /** Starts listening for SIGTERM/SIGINT; call first thing in a long-running command. */
    static StopRequest listenForStop() {
        return new StopRequest();
    }

    /**
     * Keeps the process alive until SIGTERM (or SIGINT), then shuts the relay down gracefully
     * ({@link RelayRuntime#drainAndClose}) and exits: 0 when every session finished within
     * {@code smtp.shutdown_grace}, 1 when some had to be cut off. The drain runs on the main thread after the signal
     * handler ({@link StopSignals}) wakes it, before the JVM begins its own shutdown; a shutdown hook still closes the
     * relay when the process ends any other way (or, on a JVM without that handler, drains and lets the JVM exit
     * with 143).
     */
    static void runUntilStopped(RelayRuntime runtime, StopRequest stop) throws InterruptedException {
        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopping.compareAndSet(false, true)) {
                if (stop.handled) {
                    runtime.close();
                } else {
                    runtime.drainAndClose();
                }
            }
        }, "keyrelay-shutdown"));
        stop.signalled.await(); // until SIGTERM/SIGINT (without a handler: until the process ends)
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        boolean clean = false;
        try {
            clean = runtime.drainAndClose();
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(ServeCommand.class).error("error during shutdown", e);
        }
        LoggerFactory.getLogger(ServeCommand.class).info("keyrelay stopped{}", clean ? "" : " (some sessions were cut off)");
        System.exit(clean ? 0 : Main.EXIT_RUNTIME);
    }
}
