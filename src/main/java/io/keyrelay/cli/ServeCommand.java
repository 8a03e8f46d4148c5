package io.keyrelay.cli;

import io.keyrelay.config.ConfigException;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.logging.LogOutput;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
                    "is required for serve (keyrelay dev writes mail to a folder instead)");
        }
        if (!config.smtp().tls().enabled() && config.smtp().auth().plaintext() == RelayConfig.PlaintextAuth.NEVER) {
            throw new ConfigException(Setting.SMTP_TLS_CERT.key(), "is required: with smtp.auth.plaintext=never,"
                    + " AUTH is only possible over TLS");
        }
        rawConfig().warnings().forEach(w -> spec.commandLine().getErr().println("keyrelay: warning: " + w));
        LogOutput.use(config.log().format());
        runUntilStopped(new RelayRuntime(config, null));
        return 0;
    }

    /** Keeps the process alive until SIGTERM/SIGINT, then stops the relay. */
    static void runUntilStopped(RelayRuntime runtime) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            runtime.close();
            stopped.countDown();
        }, "keyrelay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
    }
}
