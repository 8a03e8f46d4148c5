package io.keyrelay.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code keyrelay} command. Exit codes: 0 success, 2 usage or validation error (bad flag, bad config
 * value, bad key field), 1 runtime failure (store unreachable, unknown key id, a revoked key, …), each with a
 * one-line message ({@link CliErrors}).
 */
@Command(name = "keyrelay",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "An SMTP relay that authenticates applications with API keys.",
        subcommands = {ServeCommand.class, DevCommand.class, KeysCommand.class, DomainsCommand.class, QueueCommand.class, AuditCommand.class, DbCommand.class,
                ConfigCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    static final int EXIT_RUNTIME = 1;
    static final int EXIT_USAGE = 2;

    /** {@code keyrelay --config f.yaml keys list}: the same option as after the subcommand, handed down to it. */
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (before or after the command).")
    Path configFile;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = run(args, System.getenv(), out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs the CLI with the given environment and streams; returns the exit code. */
    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(env);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine(Map<String, String> env) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main, new Factory(env));
        cl.setCommandName(commandName());
        cl.setExecutionStrategy(parseResult -> {
            main.handDownConfig(parseResult);
            quietLibrariesUnlessServing(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        });
        CliErrors errors = new CliErrors();
        cl.setParameterExceptionHandler(errors);
        cl.setExecutionExceptionHandler(errors);
        return cl;
    }

    /**
     * The command as the user runs it, for usage lines and for every message that suggests another command:
     * {@code keyrelay} from the distribution's {@code bin/keyrelay}, {@code scripts/keyrelay} in a checkout (each
     * launcher sets {@code -Dkeyrelay.command}), {@code java -jar …/keyrelay.jar} when the jar is run directly.
     */
    static String commandName() {
        String launcher = System.getProperty("keyrelay.command");
        if (launcher != null && !launcher.isBlank()) {
            return launcher;
        }
        try {
            java.net.URL location = Main.class.getProtectionDomain().getCodeSource().getLocation();
            java.nio.file.Path jar = java.nio.file.Path.of(location.toURI());
            if (jar.toString().endsWith(".jar")) {
                java.nio.file.Path here = java.nio.file.Path.of("").toAbsolutePath();
                return "java -jar " + (jar.startsWith(here) ? here.relativize(jar) : jar);
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // no code source (an unusual class loader): the plain name
        }
        return "keyrelay";
    }

    private void handDownConfig(CommandLine.ParseResult parseResult) {
        if (configFile == null) {
            return;
        }
        CommandLine.ParseResult leaf = parseResult;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        if (leaf.commandSpec().userObject() instanceof ConfigOption command) {
            if (command.configFile != null && !command.configFile.equals(configFile)) {
                throw new CommandLine.ParameterException(leaf.commandSpec().commandLine(),
                        "--config: given twice, as " + configFile + " and as " + command.configFile);
            }
            command.configFile = configFile;
        }
    }

    /** One-shot commands keep library chatter (pool start, migrations) out of their output. */
    private static void quietLibrariesUnlessServing(CommandLine.ParseResult parseResult) {
        CommandLine.ParseResult leaf = parseResult;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        Object cmd = leaf.commandSpec().userObject();
        if (cmd instanceof LongRunning) {
            return;
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
            ctx.getLogger("io.keyrelay").setLevel(Level.WARN); // INFO in the shipped files, for the relay's log
        }
    }

    /** Marks commands that run a server and keep the configured log levels. */
    interface LongRunning {}

    /** Supplies commands with the environment they were started with. */
    static final class Factory implements CommandLine.IFactory {
        private final Map<String, String> env;

        Factory(Map<String, String> env) {
            this.env = Map.copyOf(env);
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            if (cls.isAnnotationPresent(Command.class) && ConfigOption.class.isAssignableFrom(cls)) {
                K k = CommandLine.defaultFactory().create(cls);
                ((ConfigOption) k).environment(env);
                return k;
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"keyrelay " + (v == null ? "(development build)" : v)};
        }
    }
}
