package io.keyrelay.dkim;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.conscrypt.Conscrypt;

/**
 * The benchmarks of {@link DkimSignBenchmark} and {@link MessageScanBenchmark} measured in <em>CPU time</em> of the
 * measuring thread rather than wall time: the measure {@code openssl speed} uses (user CPU time), so the two can
 * stand side by side, and one that a machine shared with other work disturbs far less than throughput. Rounds
 * interleave the cases (each round runs every case for about half a second of CPU); it prints the median of five
 * rounds per case, as operations per CPU-second.
 *
 * <p>Run: {@code mvn -Pjmh test-compile exec:exec -Djmh.main=io.keyrelay.dkim.DkimCpuTime}. RSA on OpenSSL's
 * libcrypto ({@code NativeRsa}) is a multi-release class of the jar, so it is measured only when run from the jar:
 * {@code mvn -Pjmh package test-compile -DskipTests}, then
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/keyrelay.jar:target/test-classes io.keyrelay.dkim.DkimCpuTime}.
 */
public final class DkimCpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private interface Op {
        Object run() throws Exception;
    }

    private DkimCpuTime() {}

    public static void main(String[] args) throws Exception {
        DkimSigner jdk = new DkimSigner(Clock.systemUTC());
        DkimSigner conscrypt = new DkimSigner(Clock.systemUTC(), Conscrypt.newProvider());
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        SigningKey rsa = new SigningKey("example.com", "rsa", g.generateKeyPair().getPrivate());
        SigningKey ed = new SigningKey("example.com", "ed", KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
                .getPrivate());
        byte[] headers = DkimSignBenchmark.HEADERS.getBytes(StandardCharsets.US_ASCII);
        MessageScan message = new MessageScan();
        message.write(headers);
        message.write("Hello,\r\n\r\nyour invoice is attached.\r\n".getBytes(StandardCharsets.US_ASCII));
        message.finish();
        StringBuilder b = new StringBuilder(1 << 20);
        while (b.length() < (1 << 20) - 100) {
            b.append("Lorem ipsum dolor sit amet, consectetur  adipiscing elit, sed do eiusmod tempor  \r\n");
        }
        byte[] mib = b.toString().getBytes(StandardCharsets.US_ASCII);

        Map<String, Op> cases = new LinkedHashMap<>();
        List<SigningKey> rsaJdk = List.of(jdk.importKey(rsa));
        List<SigningKey> rsaConscrypt = List.of(conscrypt.importKey(rsa));
        List<SigningKey> edJdk = List.of(jdk.importKey(ed));
        List<SigningKey> edConscrypt = List.of(conscrypt.importKey(ed));
        cases.put("signRsa2048 jdk", () -> jdk.sign(message, rsaJdk));
        cases.put("signRsa2048 conscrypt", () -> conscrypt.sign(message, rsaConscrypt));
        DkimSigner preferred = DkimSigner.preferred(Clock.systemUTC());
        if (preferred.providerName().startsWith("OpenSSL")) { // run from the jar on Java 22+: see the class comment
            List<SigningKey> rsaOpenSsl = List.of(preferred.importKey(rsa));
            cases.put("signRsa2048 openssl", () -> preferred.sign(message, rsaOpenSsl));
        }
        cases.put("signEd25519 jdk", () -> jdk.sign(message, edJdk));
        cases.put("signEd25519 conscrypt", () -> conscrypt.sign(message, edConscrypt));
        cases.put("bodyHashMiB", () -> {
            MessageScan s = new MessageScan();
            s.write(headers);
            s.write(mib);
            s.finish();
            return s.bodyHash();
        });
        cases.put("headerParse", () -> HeaderAddresses.read(HeaderBlock.read(new ByteArrayInputStream(headers),
                1 << 20), false));

        for (Op op : cases.values()) {
            measure(op, 1_000_000_000L); // warm-up: a second of CPU each, uncounted
        }
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        for (int round = 0; round < 5; round++) {
            for (Map.Entry<String, Op> c : cases.entrySet()) {
                rates.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(measure(c.getValue(), 500_000_000L));
            }
        }
        System.out.printf("%-24s %14s %14s %14s%n", "case", "median ops/s", "min", "max");
        rates.forEach((name, r) -> {
            double[] v = r.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("%-24s %14.1f %14.1f %14.1f%n", name, v[v.length / 2], v[0], v[v.length - 1]);
        });
        System.out.println("(operations per CPU-second of one thread; " + Arrays.toString(args) + ")");
    }

    /** Runs {@code op} for about {@code cpuNanos} of this thread's CPU time; returns operations per CPU-second. */
    private static double measure(Op op, long cpuNanos) throws Exception {
        long start = THREADS.getCurrentThreadCpuTime();
        long n = 0;
        long used;
        Object sink = null;
        do {
            for (int i = 0; i < 8; i++) {
                sink = op.run();
            }
            n += 8;
            used = THREADS.getCurrentThreadCpuTime() - start;
        } while (used < cpuNanos);
        if (sink == null) {
            throw new IllegalStateException("no result");
        }
        return n * 1e9 / used;
    }
}
