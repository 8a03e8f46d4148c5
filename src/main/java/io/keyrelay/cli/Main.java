package io.keyrelay.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.keyrelay.config.ConfigException;
import io.keyrelay.keys.KeyNotFoundException;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.store.StoreException;
import java.io.PrintWriter;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code keyrelay} command. Exit codes: 0 success, 2 usage or validation error (bad flag, bad config
 * value, bad key field), 1 runtime failure (store unreachable, unknown key id, …), each with a one-line message.
 */
@Command(name = "keyrelay",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "An SMTP relay that authenticates applications with API keys.",
        subcommands = {ServeCommand.class, DevCommand.class, KeysCommand.class, DomainsCommand.class, AuditCommand.class, DbCommand.class,
                ConfigCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    static final int EXIT_RUNTIME = 1;
    static final int EXIT_USAGE = 2;

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
        CommandLine cl = new CommandLine(new Main(), new Factory(env));
        cl.setExecutionStrategy(parseResult -> {
            quietLibrariesUnlessServing(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            Throwable t = e;
            if (t instanceof ConfigException || t instanceof KeyValidationException) {
                err.println("keyrelay: " + t.getMessage());
                return EXIT_USAGE;
            }
            if (t instanceof io.keyrelay.domains.DomainException d) {
                err.println("keyrelay: " + d.getMessage());
                return d.kind() == io.keyrelay.domains.DomainException.Kind.INVALID ? EXIT_USAGE : EXIT_RUNTIME;
            }
            if (t instanceof KeyNotFoundException || t instanceof StoreException || t instanceof CliFailure) {
                err.println("keyrelay: " + t.getMessage());
                LoggerFactory.getLogger(Main.class).debug("command failed", t);
                return EXIT_RUNTIME;
            }
            err.println("keyrelay: unexpected error: " + t);
            LoggerFactory.getLogger(Main.class).error("unexpected error", t);
            return EXIT_RUNTIME;
        });
        return cl;
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
