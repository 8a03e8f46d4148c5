package io.keyrelay.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's {@code haproxy}, which {@code scripts/test} installs) in TCP mode, started for one test
 * on free loopback ports and stopped with it. Each route is a frontend on its own port that forwards to a
 * backend on 127.0.0.1 with a PROXY protocol header: {@code send-proxy} (v1) or {@code send-proxy-v2}.
 */
public final class Haproxy implements AutoCloseable {
    /** One frontend: its name, the backend port, and the PROXY version to send (1 or 2). */
    public record Route(String name, int backendPort, int proxyVersion, boolean healthChecks) {
        public Route(String name, int backendPort, int proxyVersion) {
            this(name, backendPort, proxyVersion, false);
        }
    }

    private final Process process;
    private final Map<String, Integer> ports;
    private final Path log;

    private Haproxy(Process process, Map<String, Integer> ports, Path log) {
        this.process = process;
        this.ports = ports;
        this.log = log;
    }

    public static Haproxy start(Path dir, List<Route> routes) {
        Path binary = Path.of("/usr/sbin/haproxy");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("HAProxy is not installed at " + binary
                    + " (scripts/test installs Debian's haproxy)");
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        StringBuilder cfg = new StringBuilder("""
                global
                    maxconn 256
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 60s
                    timeout server 60s
                """);
        for (Route r : routes) {
            int port = FreePorts.pick();
            ports.put(r.name(), port);
            cfg.append("frontend ").append(r.name()).append('\n')
                    .append("    bind 127.0.0.1:").append(port).append('\n')
                    .append("    default_backend ").append(r.name()).append("_relay\n")
                    .append("backend ").append(r.name()).append("_relay\n")
                    .append("    server relay 127.0.0.1:").append(r.backendPort())
                    .append(r.proxyVersion() == 2 ? " send-proxy-v2" : " send-proxy")
                    .append(r.healthChecks() ? " check inter 200ms" : "").append('\n');
        }
        try {
            Files.createDirectories(dir);
            Path config = dir.resolve("haproxy.cfg");
            Files.writeString(config, cfg);
            Path log = dir.resolve("haproxy.log");
            Process p = new ProcessBuilder(binary.toString(), "-db", "-f", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Haproxy h = new Haproxy(p, ports, log);
            try {
                for (int port : ports.values()) {
                    await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                        if (!p.isAlive()) {
                            throw new AssertionError("haproxy exited: " + Files.readString(log));
                        }
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                            return true;
                        }
                    });
                }
            } catch (RuntimeException | AssertionError e) {
                h.close();
                throw e;
            }
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The frontend port of a route. */
    public int port(String route) {
        return ports.get(route);
    }

    /** What HAProxy printed (warnings, errors). */
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
