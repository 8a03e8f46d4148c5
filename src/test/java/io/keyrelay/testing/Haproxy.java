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
        return launch(binary, dir, cfg, ports);
    }

    /** One relay node behind a {@link #balanced} frontend: its SMTP port, and the admin port HAProxy checks. */
    public record Node(String name, int smtpPort, int adminPort) {}

    /**
     * One frontend, {@code name}, spreading connections round-robin over {@code nodes} with PROXY v2 headers, as in
     * production: each node's {@code /readyz} is checked every 300 ms, waiting up to 2 s for the answer (a node that
     * fails one check gets no new connection), and a connection that cannot reach its node is tried on another
     * ({@code option redispatch}).
     */
    public static Haproxy balanced(Path dir, String name, List<Node> nodes) {
        Path binary = Path.of("/usr/sbin/haproxy");
        int port = FreePorts.pick();
        StringBuilder cfg = new StringBuilder("""
                global
                    maxconn 512
                defaults
                    mode tcp
                    timeout connect 2s
                    timeout check 2s
                    timeout client 60s
                    timeout server 60s
                    retries 3
                    option redispatch
                """);
        cfg.append("frontend ").append(name).append("\n    bind 127.0.0.1:").append(port).append('\n')
                .append("    default_backend ").append(name).append("_nodes\n")
                .append("backend ").append(name).append("_nodes\n")
                .append("    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n");
        for (Node n : nodes) {
            cfg.append("    server ").append(n.name()).append(" 127.0.0.1:").append(n.smtpPort())
                    .append(" send-proxy-v2 check port ").append(n.adminPort()).append(" inter 300ms fall 1 rise 1\n");
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put(name, port);
        return launch(binary, dir, cfg, ports);
    }

    private static Haproxy launch(Path binary, Path dir, StringBuilder cfg, Map<String, Integer> ports) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("HAProxy is not installed at " + binary
                    + " (scripts/test installs Debian's haproxy)");
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
