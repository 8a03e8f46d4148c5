package io.keyrelay.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway {@code redis-server} (Debian's, which {@code scripts/test} installs) on a free loopback port, owned by
 * one test: it can be stopped and started again on the same port, to see what the relay does while Redis is away.
 * It keeps nothing on disk. {@link #close()} stops it.
 */
public final class RedisServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/redis-server");

    private final int port;
    private final Path dir;
    private final Path cert;
    private final Path key;
    private Process process;

    private RedisServer(int port, Path dir, Path cert, Path key) {
        this.port = port;
        this.dir = dir;
        this.cert = cert;
        this.key = key;
    }

    /** Starts one in {@code dir} (its log goes there). */
    public static RedisServer start(Path dir) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: run the tests with scripts/test, which installs"
                    + " Debian's redis-server");
        }
        RedisServer r = new RedisServer(FreePorts.pick(), dir, null, null);
        r.start();
        return r;
    }

    /**
     * Starts one that speaks only TLS ({@code rediss://}), with the self-signed certificate {@code cert} (for
     * 127.0.0.1) and its key; clients need not present a certificate.
     */
    public static RedisServer startTls(Path dir, Path cert, Path key) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: run the tests with scripts/test");
        }
        RedisServer r = new RedisServer(FreePorts.pick(), dir, cert, key);
        r.start();
        return r;
    }

    /** Starts it again (after {@link #stop}) on the same port. */
    public void start() {
        try {
            Files.createDirectories(dir);
            List<String> cmd = new java.util.ArrayList<>(List.of(BINARY.toString(), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString()));
            if (cert == null) {
                cmd.addAll(List.of("--port", Integer.toString(port)));
            } else {
                cmd.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port), "--tls-cert-file",
                        cert.toString(), "--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(),
                        "--tls-auth-clients", "no"));
            }
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.out").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> cli("PING").startsWith("PONG"));
    }

    /** Kills it (SIGKILL, as a crash): its counters are gone, as with a Redis that keeps nothing. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}, or {@code rediss://} for a TLS one. */
    public String url() {
        return (cert == null ? "redis" : "rediss") + "://127.0.0.1:" + port;
    }

    /** Runs one command with redis-cli and returns its output (for INFO and the like). */
    public String cli(String... args) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p",
                    Integer.toString(port)));
            if (cert != null) {
                cmd.addAll(List.of("--tls", "--cacert", cert.toString()));
            }
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
