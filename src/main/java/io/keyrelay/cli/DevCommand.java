package io.keyrelay.cli;

import io.keyrelay.config.ConfigException;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.domains.MasterKeyFile;
import io.keyrelay.keys.Actor;
import io.keyrelay.logging.LogOutput;
import io.keyrelay.logging.QuietStart;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.PrivateFiles;
import io.keyrelay.tls.SelfSignedCertificate;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code keyrelay dev}: the relay with nothing else installed. Embedded store in {@code data_dir}, SMTP on
 * 127.0.0.1:2525 with STARTTLS (a self-signed certificate made on first start), AUTH in clear allowed for loopback
 * clients only, and, unless a downstream is configured, every message written to {@code data_dir/outbox}. On first
 * start it creates a key with every grant and prints it once, with a command that sends a test message.
 */
@Command(name = "dev", mixinStandardHelpOptions = true,
        description = "Run the relay for development: no database or MTA needed; mail goes to data/outbox.")
final class DevCommand extends ConfigOption implements Callable<Integer>, Main.LongRunning {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        ConfigLoader.Raw raw = rawConfig();
        Path dataDir = Path.of(raw.get(Setting.DATA_DIR));
        Path cert = dataDir.resolve("dev-tls/cert.pem");
        Path key = dataDir.resolve("dev-tls/key.pem");
        Map<Setting, String> devDefaults = new java.util.EnumMap<>(Map.of(
                Setting.SMTP_LISTEN, "127.0.0.1",
                Setting.SMTP_PORT, "2525",
                Setting.SMTP_AUTH_PLAINTEXT, "loopback",
                Setting.SMTP_HOSTNAME, "localhost",
                Setting.SMTP_TLS_CERT, cert.toString(),
                Setting.SMTP_TLS_KEY, key.toString(),
                // dev sends from any domain until one is added (the banner says how); serve requires verified ones
                Setting.SENDING_DOMAINS_REQUIRE, "off"));
        RelayConfig config = ConfigLoader.build(raw.withDefaults(devDefaults));
        LogOutput.node(config.cluster().nodeName());
        LogOutput.use(config.log().format());
        try {
            PrivateFiles.directory(config.dataDir()); // 0700 before the first file goes in
        } catch (java.io.IOException e) {
            throw new ConfigException(Setting.DATA_DIR.key(), "cannot create " + config.dataDir() + ": " + e.getMessage());
        }
        if (!raw.isSet(Setting.DKIM_MASTER_KEY)) { // dev keeps its own, so sending domains work at once
            Path keyFile = MasterKeyFile.in(config.dataDir());
            try {
                devDefaults.put(Setting.DKIM_MASTER_KEY, MasterKeyFile.readOrCreate(keyFile));
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw new ConfigException(Setting.DKIM_MASTER_KEY.key(), "cannot use " + keyFile + ": " + e.getMessage());
            }
            config = ConfigLoader.build(raw.withDefaults(devDefaults));
        }
        boolean generated = false;
        if (config.smtp().tls().cert().equals(cert) && !(Files.exists(cert) && Files.exists(key))) {
            SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(825));
            generated = true;
        }
        Path outbox = dataDir.resolve("outbox").toAbsolutePath().normalize();
        ServeCommand.StopRequest stop = ServeCommand.listenForStop();
        PrintWriter out = spec.commandLine().getOut();
        RelayRuntime runtime;
        try (QuietStart quiet = QuietStart.hold("io.keyrelay")) { // the banner says what these lines would
            runtime = new RelayRuntime(config, outbox);
            try {
                CreatedKey created = runtime.keyService().list().isEmpty()
                        ? runtime.keyService().create(new KeySpec("dev (every grant)", EnumSet.allOf(Grant.class),
                                IpAllowlist.ANY, null, null), Actor.SYSTEM)
                        : null;
                banner(out, spec.root().name(), config, runtime, outbox, generated ? cert : null, created);
            } catch (RuntimeException e) {
                runtime.close();
                throw e;
            }
        }
        ServeCommand.runUntilStopped(runtime, stop);
        return 0;
    }

    private static String hostLiteral(java.net.InetAddress a) {
        String h = a.getHostAddress();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    private static void banner(PrintWriter out, String command, RelayConfig c, RelayRuntime rt, Path outbox, Path newCert,
            CreatedKey created) {
        // Listening on every address (the Docker image sets smtp.listen 0.0.0.0): the commands below use loopback.
        boolean everywhere = c.smtp().listen().isAnyLocalAddress();
        String host = everywhere ? "127.0.0.1" : hostLiteral(c.smtp().listen());
        int port = rt.smtpPort();
        out.println("keyrelay dev is running.");
        out.printf("  SMTP     %s:%d%s (STARTTLS%s)%n", everywhere ? hostLiteral(c.smtp().listen()) : host, port,
                everywhere ? " (every address)" : "", c.smtp().auth().plaintext() == RelayConfig.PlaintextAuth.LOOPBACK
                ? "; AUTH without TLS allowed for loopback clients" : "");
        out.printf("  TLS      %s%s%n", c.smtp().tls().cert(), newCert != null ? " (self-signed, created now)" : "");
        out.printf("  Mail to  %s%n", c.downstream().configured() ? rt.downstream().describe()
                : outbox + " (one .eml file per message)");
        out.printf("  Mode     %s%n", c.queue().enabled()
                ? "queue: 250 once stored, then delivered by the queue's workers (relay.mode)"
                : "passthrough: 250 once the downstream took it (relay.mode)");
        out.printf("  Senders  %s%n", c.domains().require() == RelayConfig.RequireDomains.OFF
                ? "any domain (sending_domains.require: off); add a sending domain: keyrelay domains add example.com"
                : "sending domains only (sending_domains.require: " + c.domains().require().name().toLowerCase(
                        java.util.Locale.ROOT) + "); see keyrelay domains list");
        out.printf("  Keys     %s%n", c.db().url() == null ? "embedded store in " + c.dataDir() : "PostgreSQL");
        if (rt.adminPort() != 0) {
            out.printf("  Admin    %s://%s:%d/ (web console, API, /metrics; sign in with an admin key)%n",
                    c.admin().tls().enabled() ? "https" : "http", hostLiteral(c.admin().listen()), rt.adminPort());
        }
        if (created != null) {
            String k = created.secret();
            out.println();
            out.println("Created an API key with every grant. It is shown this one time only; copy it now:");
            out.println();
            out.println("    " + k);
            out.println();
            out.println("Send a test message (username SMTP_Injection, password = the key):");
            out.println();
            out.printf("  printf 'From: app@example.com\\r\\nTo: you@example.com\\r\\nSubject: Hello from keyrelay\\r\\n\\r\\nIt works.\\r\\n' |%n");
            out.printf("    curl -sS --url smtp://%s:%d --user 'SMTP_Injection:%s' \\%n", host, port, k);
            out.printf("         --mail-from app@example.com --mail-rcpt you@example.com -T -%n");
            out.println();
            out.printf("  or: swaks --server %s:%d --tls --auth-user SMTP_Injection --auth-password %s \\%n",
                    host, port, k);
            out.println("         --from app@example.com --to you@example.com");
        } else {
            out.println();
            out.println("Keys exist already; list them with: " + command + " keys list   (create one: " + command
                    + " keys create --label L --grant smtp/inject)");
        }
        out.println();
        out.println("Stop with Ctrl-C.");
        out.flush();
    }
}
