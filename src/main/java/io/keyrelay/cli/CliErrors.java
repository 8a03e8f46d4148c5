package io.keyrelay.cli;

import io.keyrelay.config.ConfigException;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeyNotFoundException;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.Typos;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How the CLI reports an error: one line starting {@code keyrelay:} that names the flag as the user typed it, then
 * one line pointing at the command's {@code --help} (never the whole usage text, which buries the one line that
 * matters). Exit code 2 for what the user typed (a flag, a value, the configuration), 1 for a command that could not
 * be carried out (the store is down, no such key, the key is revoked).
 */
final class CliErrors implements CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler {

    /** The CLI flag for each field a {@link KeyValidationException} can name. */
    private static final Map<String, String> FLAGS = flags();

    private static Map<String, String> flags() {
        Map<String, String> m = new HashMap<>(Map.of("label", "--label", "grants", "--grant",
                "valid_ips", "--allowed-ip", "subaccount_id", "--subaccount", "expires_at", "--expires"));
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            m.put(l.wireName(), "--" + l.wireName().replace('_', '-'));
        }
        return Map.copyOf(m);
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        if (!cl.getSubcommands().isEmpty() && ex.getMessage().startsWith("Missing required subcommand")) {
            cl.usage(err); // `keyrelay` or `keyrelay keys` alone: the list of commands is the answer
            return Main.EXIT_USAGE;
        }
        err.println("keyrelay: " + message(ex, cl));
        hint(err, cl);
        return Main.EXIT_USAGE;
    }

    private static String message(ParameterException ex, CommandLine cl) {
        // picocli checks required options before it reports unknown ones; the typo (--labl) is the real error
        List<String> unmatched = ex instanceof UnmatchedArgumentException u ? u.getUnmatched() : cl.getUnmatchedArguments();
        if (!unmatched.isEmpty()) {
            return unmatched(unmatched.get(0), cl);
        }
        if (ex instanceof CommandLine.MissingParameterException m && !m.getMissing().isEmpty()) {
            return "missing " + String.join(", ", m.getMissing().stream().map(a -> a.isOption()
                    ? ((CommandLine.Model.OptionSpec) a).longestName() + " " + a.paramLabel()
                    : a.paramLabel()).toList());
        }
        java.util.regex.Matcher invalid = INVALID_VALUE.matcher(ex.getMessage());
        if (invalid.matches()) { // Invalid value for option '--subaccount': 'x' is not a long
            return invalid.group(1) + ": " + invalid.group(2).replaceAll("is not an? (long|int|integer)$",
                    "is not a whole number");
        }
        return ex.getMessage();
    }

    private static final java.util.regex.Pattern INVALID_VALUE =
            java.util.regex.Pattern.compile("Invalid value for (?:option|positional parameter) '([^']+)': (.*)");

    private static String unmatched(String first, CommandLine cl) {
        CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
        String name = first.contains("=") && first.startsWith("-") ? first.substring(0, first.indexOf('=')) : first;
        if (first.startsWith("-")) {
            return "unknown option '" + name + "'" + didYouMean(name, spec.optionsMap().keySet());
        }
        if (!cl.getSubcommands().isEmpty()) {
            return "'" + first + "' is not a " + spec.qualifiedName() + " command"
                    + didYouMean(first, cl.getSubcommands().keySet());
        }
        return "unexpected argument '" + first + "'";
    }

    private static String didYouMean(String typed, java.util.Collection<String> names) {
        return Typos.closest(typed, names, Math.max(1, Math.min(3, typed.length() / 3)))
                .map(n -> "; did you mean '" + n + "'?").orElse("");
    }

    private static void hint(PrintWriter err, CommandLine cl) {
        err.println("keyrelay: see '" + cl.getCommandSpec().qualifiedName() + " --help'");
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        if (e instanceof KeyValidationException v && v.isConflict()) {
            err.println("keyrelay: " + v.getMessage()); // nothing wrong with what was typed: the key's state forbids it
            return Main.EXIT_RUNTIME;
        }
        if (e instanceof KeyValidationException v) {
            err.println("keyrelay: " + flagged(v));
            hint(err, cl);
            return Main.EXIT_USAGE;
        }
        if (e instanceof io.keyrelay.domains.DomainException d) {
            err.println("keyrelay: " + d.getMessage());
            if (d.kind() == io.keyrelay.domains.DomainException.Kind.INVALID) {
                hint(err, cl);
                return Main.EXIT_USAGE;
            }
            return Main.EXIT_RUNTIME; // no such domain, one configured already, no master key: not a typo
        }
        if (e instanceof ConfigException c) {
            err.println("keyrelay: " + e.getMessage());
            if (c.key().startsWith("--")) { // the file itself: missing, unreadable, not YAML
                hint(err, cl);
            } else {
                err.println("keyrelay: every key is in docs/configuration.md; '" + cl.getCommandSpec().root().name()
                        + " config print' shows the effective values");
            }
            return Main.EXIT_USAGE;
        }
        if (e instanceof KeyNotFoundException || e instanceof StoreException || e instanceof CliFailure) {
            err.println("keyrelay: " + e.getMessage());
            LoggerFactory.getLogger(Main.class).debug("command failed", e);
            return Main.EXIT_RUNTIME;
        }
        err.println("keyrelay: unexpected error: " + e);
        LoggerFactory.getLogger(Main.class).error("unexpected error", e);
        return Main.EXIT_RUNTIME;
    }

    /** {@code --label: is longer than 200 characters} for {@code label is longer than 200 characters}. */
    static String flagged(KeyValidationException v) {
        String flag = FLAGS.get(v.field());
        if (flag == null) {
            return v.getMessage();
        }
        String m = v.getMessage();
        return flag + ": " + (m.startsWith(v.field() + " ") ? m.substring(v.field().length() + 1) : m);
    }
}
