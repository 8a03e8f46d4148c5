package io.keyrelay.cli;

import io.keyrelay.config.ConfigLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code keyrelay config …}: inspect the configuration. */
@Command(name = "config", description = "Inspect the configuration.", subcommands = ConfigCommand.Print.class)
final class ConfigCommand {

    @Command(name = "print", mixinStandardHelpOptions = true,
            description = "Validate the configuration and print the effective values as YAML, secrets masked.")
    static final class Print extends ConfigOption implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            ConfigLoader.Raw raw = rawConfig();
            ConfigLoader.build(raw); // validate: a bad value exits 2 naming the key
            raw.warnings().forEach(w -> spec.commandLine().getErr().println("keyrelay: warning: " + w));
            spec.commandLine().getOut().print(ConfigLoader.print(raw));
            return 0;
        }
    }
}
