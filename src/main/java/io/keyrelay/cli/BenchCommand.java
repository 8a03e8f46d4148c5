package io.keyrelay.cli;

import io.keyrelay.bench.BenchOptions;
import io.keyrelay.bench.BenchResult;
import io.keyrelay.bench.LoadGenerator;
import io.keyrelay.config.Durations;
import io.keyrelay.config.Sizes;
import io.keyrelay.tls.TlsContexts.TlsMaterialException;
import io.keyrelay.tls.TlsProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code keyrelay bench}: the SMTP load generator. Exit code 0 when every planned message was accepted, 1 when
 * anything failed or the run hit {@code --timeout} (the report is printed either way), 2 for bad options or a
 * refused target.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Load an SMTP server (keyrelay, or any other) and report messages/s and latencies.",
                "Each of --connections sessions runs at once: connect, EHLO, [STARTTLS], AUTH PLAIN once, --messages"
                        + " messages, QUIT. Loopback targets only, unless --allow-remote."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Target host (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "587", description = "Target port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--connections", defaultValue = "16", paramLabel = "C",
            description = "Sessions running at the same time (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--messages", defaultValue = "100", paramLabel = "M",
            description = "Messages per session (default: ${DEFAULT-VALUE}).")
    int messages;

    @Option(names = "--sessions", paramLabel = "S",
            description = "Sessions in all (default: --connections, one per connection); more churns connections.")
    Integer sessions;

    @Option(names = "--size", defaultValue = "2KiB", paramLabel = "BYTES",
            description = "Message size: 2048, 2KiB, 50MiB (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--recipients", defaultValue = "1", paramLabel = "R",
            description = "Recipients per message (default: ${DEFAULT-VALUE}).")
    int recipients;

    @Option(names = "--user", defaultValue = "SMTP_Injection", paramLabel = "U",
            description = "AUTH PLAIN username (default: ${DEFAULT-VALUE}).")
    String user;

    @ArgGroup(exclusive = true)
    KeySource keySource;

    static final class KeySource {
        @Option(names = "--key", paramLabel = "K", description = "API key (AUTH PLAIN password). Without a key, no AUTH.")
        String key;

        @Option(names = "--key-file", paramLabel = "FILE",
                description = "File whose first line is the API key (keeps it out of the process list).")
        Path keyFile;
    }

    @ArgGroup(exclusive = true)
    TlsChoice tlsChoice;

    static final class TlsChoice {
        @Option(names = "--starttls", description = "Upgrade each session with STARTTLS before AUTH.")
        boolean startTls;

        @Option(names = "--tls", description = "TLS from the first byte (implicit TLS, RFC 8314).")
        boolean implicitTls;
    }

    @Option(names = "--tls-provider", defaultValue = "jdk", paramLabel = "jdk|conscrypt",
            description = "The generator's TLS implementation: jdk, or conscrypt (BoringSSL, native), which costs the"
                    + " generator a fraction of the CPU per TLS record, leaving more of a shared machine to the server"
                    + " measured (default: ${DEFAULT-VALUE}).")
    String tlsProvider;

    @Option(names = "--ca-file", paramLabel = "FILE",
            description = "PEM CA certificates to verify the server with. Without it, any certificate is accepted"
                    + " on a loopback target.")
    Path caFile;

    @Option(names = "--idle-sessions", defaultValue = "0", paramLabel = "N",
            description = "Open N more sessions first (EHLO, TLS, AUTH) and hold them idle for the whole run.")
    int idleSessions;

    @Option(names = "--timeout", defaultValue = "10m", paramLabel = "DURATION",
            description = "Stop the run after this long, whatever is left (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--read-timeout", defaultValue = "60s", paramLabel = "DURATION",
            description = "Longest wait for one reply (default: ${DEFAULT-VALUE}).")
    String readTimeout;

    @Option(names = "--from", defaultValue = "bench@example.com", paramLabel = "ADDRESS",
            description = "Envelope sender (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--rcpt-domain", defaultValue = "example.com", paramLabel = "DOMAIN",
            description = "Recipients are rcpt1@DOMAIN, rcpt2@DOMAIN, ... (default: ${DEFAULT-VALUE}).")
    String rcptDomain;

    @Option(names = "--warmup-sessions", defaultValue = "0", paramLabel = "N",
            description = "First run N sessions of the same shape, unmeasured, so both ends are warmed up"
                    + " (JIT, caches, pools).")
    int warmupSessions;

    @Option(names = "--allow-remote", description = "Allow a target that is not a loopback address.")
    boolean allowRemote;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        BenchOptions options;
        LoadGenerator generator;
        try {
            options = new BenchOptions(host, port, connections, messages, sessions == null ? connections : sessions,
                    (int) Math.min(Integer.MAX_VALUE, parseSize()), recipients, user, key(),
                    tlsChoice == null ? BenchOptions.Tls.NONE
                            : tlsChoice.startTls ? BenchOptions.Tls.STARTTLS : BenchOptions.Tls.IMPLICIT,
                    tlsProvider(), caFile, idleSessions, duration("--timeout", timeout), duration("--read-timeout", readTimeout),
                    from, rcptDomain, allowRemote);
            generator = new LoadGenerator(options);
            if (warmupSessions < 0) {
                throw new IllegalArgumentException("--warmup-sessions: must not be negative");
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (IllegalStateException | TlsMaterialException e) {
            // the TLS client context: Conscrypt that cannot load here, an unreadable --ca-file
            throw new CliFailure(e.getMessage());
        }
        long warmed = warmupSessions > 0 ? new LoadGenerator(options.warmup(warmupSessions)).run().messagesOk() : 0;
        BenchResult result = generator.run().withWarmup(warmed);
        spec.commandLine().getOut().print(json ? result.toJson() + System.lineSeparator() : result.toText());
        spec.commandLine().getOut().flush();
        return result.clean() ? 0 : Main.EXIT_RUNTIME;
    }

    private TlsProvider tlsProvider() {
        try {
            return TlsProvider.parse(tlsProvider);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-provider: " + e.getMessage());
        }
    }

    private long parseSize() {
        try {
            return Sizes.parse(size);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--size: " + size + " is not a size (2048, 2KiB, 50MiB)");
        }
    }

    private static Duration duration(String option, String text) {
        try {
            return Durations.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(option + ": " + text + " is not a duration (30s, 5m, 1h)");
        }
    }

    private String key() {
        if (keySource == null) {
            return null;
        }
        if (keySource.key != null) {
            return keySource.key;
        }
        try {
            String first = Files.readAllLines(keySource.keyFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            if (first.isBlank()) {
                throw new IllegalArgumentException("--key-file: " + keySource.keyFile + " is empty");
            }
            return first.strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("--key-file: cannot read " + keySource.keyFile + ": " + e.getMessage());
        }
    }
}
