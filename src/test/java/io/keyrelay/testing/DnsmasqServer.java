package io.keyrelay.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for one test: Debian's {@code dnsmasq} (package {@code dnsmasq-base}, which
 * {@code scripts/test} installs) on a free port of 127.0.0.1, answering only the TXT records it is given and
 * nothing else (no upstream, no hosts file, no system configuration). dnsmasq splits a value longer than 255
 * bytes into several character-strings itself, as a DKIM key record of a 2048-bit key needs.
 */
public final class DnsmasqServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/dnsmasq");

    private final Process process;
    private final int port;
    private final Path log;

    private DnsmasqServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts dnsmasq serving {@code txt} (name → value; a value must not contain a comma). */
    public static DnsmasqServer start(Path dir, Map<String, String> txt) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("dnsmasq is not installed at " + BINARY
                    + " (scripts/test installs Debian's dnsmasq-base)");
        }
        int port = FreePorts.pick();
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
                "--port=" + port, "--pid-file=" + dir.resolve("dnsmasq.pid"), "--log-facility=-", "--log-queries"));
        txt.forEach((name, value) -> {
            if (value.indexOf(',') >= 0) {
                throw new IllegalArgumentException("dnsmasq reads a comma as a string separator: " + value);
            }
            cmd.add("--txt-record=" + name + "," + value);
        });
        try {
            Files.createDirectories(dir);
            Path log = dir.resolve("dnsmasq.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            DnsmasqServer server = new DnsmasqServer(p, port, log);
            try {
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                    if (!p.isAlive()) {
                        throw new AssertionError("dnsmasq exited: " + Files.readString(log));
                    }
                    try (Socket s = new Socket()) { // it listens on TCP too, once it is ready
                        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                        return true;
                    }
                });
            } catch (RuntimeException | AssertionError e) {
                server.close();
                throw e;
            }
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The port on 127.0.0.1 (UDP and TCP). */
    public int port() {
        return port;
    }

    /** What dnsmasq logged (queries included). */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
