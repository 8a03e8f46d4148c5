package io.keyrelay.cli;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.SettingsTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyrelay config …}: inspect the configuration. */
@Command(name = "config", description = "Inspect the configuration.",
        subcommands = {ConfigCommand.Print.class, ConfigCommand.Docs.class})
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

    @Command(name = "docs", mixinStandardHelpOptions = true,
            description = "Print the Markdown table of every configuration key (as in docs/configuration.md).")
    static final class Docs implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--update", paramLabel = "FILE",
                description = "Rewrite the table between the settings-table markers in FILE instead of printing it.")
        Path update;

        @Override
        public Integer call() throws IOException {
            if (update == null) {
                spec.commandLine().getOut().print(SettingsTable.markdown());
                return 0;
            }
            String page = Files.readString(update, StandardCharsets.UTF_8);
            if (!page.contains(SettingsTable.BEGIN) || !page.contains(SettingsTable.END)) {
                throw new CliFailure("--update: " + update + " has no settings table markers");
            }
            Files.writeString(update, SettingsTable.replaceIn(page), StandardCharsets.UTF_8);
            return 0;
        }
    }
}
