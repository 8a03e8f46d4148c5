package io.keyrelay.testing;

import static org.awaitility.Awaitility.await;

import io.keyrelay.domains.DnsTxtLookup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server (Debian's {@code dnsmasq}, which {@code scripts/test} installs) started by one test on a free
 * loopback port, in the foreground, never as a system service. It answers from the test's records only: names
 * under {@code local} domains it does not hold get NXDOMAIN (or no data, for a name with only an address); names
 * elsewhere get REFUSED, as from a server that will not answer for them.
 */
public final class Dnsmasq implements AutoCloseable {
    /** The longest character-string a TXT record carries (RFC 1035 §3.3); longer texts are split, as DNS hosts do. */
    private static final int CHUNK = 255;

    private final Process process;
    private final int port;
    private final Path log;

    private Dnsmasq(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** A server description: TXT texts per name, names with only an address, and the domains it answers for. */
    public static final class Zone {
        private final Map<String, List<String>> txt = new LinkedHashMap<>();
        private final List<String> addressOnly = new ArrayList<>();
        private final List<String> local = new ArrayList<>();

        public Zone local(String domain) {
            local.add(domain);
            return this;
        }

        /** One TXT record at {@code name} (several calls: several records). */
        public Zone txt(String name, String text) {
            txt.computeIfAbsent(name, n -> new ArrayList<>()).add(text);
            return this;
        }

        public Zone addressOnly(String name) {
            addressOnly.add(name);
            return this;
        }
    }

    /** Serving one TXT record per name ({@code name → text}), nothing else. */
    public static Dnsmasq start(Path dir, Map<String, String> txt) {
        Zone zone = new Zone();
        txt.forEach(zone::txt);
        return start(dir, zone);
    }

    public static Dnsmasq start(Path dir, Zone zone) {
        return start(dir, FreePorts.pick(), zone);
    }

    /** On a given port: a test restarts the server there with other records. */
    public static Dnsmasq start(Path dir, int port, Zone zone) {
        Path binary = Path.of("/usr/sbin/dnsmasq");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("dnsmasq is not installed at " + binary
                    + " (scripts/test installs Debian's dnsmasq)");
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--keep-in-foreground", "--no-daemon",
                "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--pid-file=", "--bind-interfaces",
                "--listen-address=127.0.0.1", "--port=" + port, "--cache-size=0", "--log-facility=-",
                "--log-queries"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--user=root"); // no user to drop to is needed for a loopback test server
        }
        zone.local.forEach(d -> cmd.add("--local=/" + d + "/"));
        zone.addressOnly.forEach(n -> cmd.add("--host-record=" + n + ",127.0.0.9"));
        zone.txt.forEach((name, texts) -> texts.forEach(t -> cmd.add("--txt-record=" + name + "," + chunks(t))));
        try {
            Files.createDirectories(dir);
            Path log = Files.createTempFile(dir, "dnsmasq", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Dnsmasq d = new Dnsmasq(p, port, log);
            try {
                DnsTxtLookup probe = DnsTxtLookup.using(List.of(d.address()), Duration.ofMillis(300));
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    if (!p.isAlive()) {
                        throw new AssertionError("dnsmasq exited: " + Files.readString(log));
                    }
                    return !(probe.txt("probe.invalid") instanceof DnsTxtLookup.Unavailable u)
                            || u.reason().contains("REFUSED");
                });
            } catch (RuntimeException | AssertionError e) {
                d.close();
                throw e;
            }
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String chunks(String text) {
        if (text.contains(",")) {
            throw new IllegalArgumentException("dnsmasq would split this TXT text at its comma: " + text);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += CHUNK) {
            // dnsmasq splits --txt-record at commas into strings and keeps quotes as text: no quoting here
            out.add(text.substring(i, Math.min(text.length(), i + CHUNK)));
        }
        return String.join(",", out);
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    public int port() {
        return port;
    }

    /** What dnsmasq printed (its query log among it). */
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
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
