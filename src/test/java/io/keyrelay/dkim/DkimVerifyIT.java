package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keyrelay.testing.Dkimpy;
import io.keyrelay.testing.Dnsmasq;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * keyrelay's DKIM signatures checked by an independent verifier: dkimpy, looking the public keys up in a real
 * dnsmasq on loopback. Every message is signed with an RSA-2048 and an Ed25519 key, on the JDK's providers and on
 * Conscrypt, and every signature must verify; a message altered after signing must not.
 */
class DkimVerifyIT {
    private static final String DOMAIN = "example.com";
    private static final String IDN_DOMAIN = "bücher.example";

    @TempDir
    static Path dir;
    private static Dnsmasq dns;
    private static KeyPair rsa;
    private static KeyPair ed;
    private static final DkimSigner jdk = new DkimSigner(Clock.systemUTC());
    private static final DkimSigner preferred = DkimSigner.preferred(Clock.systemUTC());

    @BeforeAll
    static void start() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        rsa = g.generateKeyPair();
        ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String idn = DomainNames.normalize(IDN_DOMAIN);
        dns = Dnsmasq.start(dir.resolve("dns"), Map.of(
                "rsa1._domainkey." + DOMAIN, SigningAlgorithm.RSA_SHA256.dnsRecord(rsa.getPublic()),
                "ed1._domainkey." + DOMAIN, SigningAlgorithm.ED25519_SHA256.dnsRecord(ed.getPublic()),
                "rsa1._domainkey." + idn, SigningAlgorithm.RSA_SHA256.dnsRecord(rsa.getPublic())));
    }

    @AfterAll
    static void stop() {
        if (dns != null) {
            dns.close();
        }
    }

    private static List<SigningKey> keys(DkimSigner signer, String domain) throws DkimException {
        List<SigningKey> k = new ArrayList<>(List.of(new SigningKey(domain, "rsa1", rsa.getPrivate())));
        if (domain.equals(DOMAIN)) {
            k.add(new SigningKey(domain, "ed1", ed.getPrivate()));
        }
        List<SigningKey> imported = new ArrayList<>();
        for (SigningKey key : k) {
            imported.add(signer.importKey(key));
        }
        return imported;
    }

    /** The message as the downstream receives it: keyrelay's signature fields, then the client's bytes untouched. */
    private static byte[] signed(byte[] message, String domain, int chunk) throws Exception {
        return signed(jdk, message, domain, chunk);
    }

    private static byte[] signed(DkimSigner signer, byte[] message, String domain, int chunk) throws Exception {
        ByteArrayOutputStream relayed = new ByteArrayOutputStream();
        MessageScan scan = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, relayed);
        for (int i = 0; i < message.length; i += chunk) {
            scan.write(message, i, Math.min(chunk, message.length - i));
        }
        scan.finish();
        assertThat(relayed.toByteArray()).isEqualTo(message);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(signer.sign(scan, keys(signer, domain)));
        out.writeBytes(message);
        return out.toByteArray();
    }

    private static Dkimpy.Verdict verify(byte[] message) throws IOException, InterruptedException {
        Path f = Files.createTempFile(dir, "msg-", ".eml");
        Files.write(f, message);
        return Dkimpy.verify(dns.port(), f);
    }

    static List<Arguments> messages() {
        String crlf = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\n"
                + "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\n\r\nsee you.\r\n";
        String longHeaders = "From: \"A rather long display name, quoted\"\r\n <alice@example.com>\r\n"
                + "To: " + String.join(",\r\n\t", java.util.Collections.nCopies(30, "Someone <someone@example.org>"))
                + "\r\nSubject: " + "a long subject that goes on ".repeat(5) + "\r\n  and on, folded\r\n"
                + "References: " + "<ref@example.com> ".repeat(40) + "\r\n"
                + "List-Unsubscribe: <mailto:u@example.com>, <https://example.com/u>\r\n"
                + "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nbody\r\n";
        return List.of(
                Arguments.of("CRLF message", crlf),
                Arguments.of("bare-LF message", crlf.replace("\r\n", "\n")),
                Arguments.of("mixed line ends", crlf.replace("Subject: Hello\r\n", "Subject: Hello\n")),
                Arguments.of("trailing whitespace", "From: a@example.com  \r\nSubject:   spaced \t out  \r\n\r\n"
                        + "line with trailing  \t\r\n  leading and   inner\t\truns  \r\n\r\n\r\n \r\n"),
                Arguments.of("long folded headers", longHeaders),
                Arguments.of("UTF-8 headers", "From: Jörg Müller <joerg@example.com>\r\nTo: Zoë <zoe@example.org>\r\n"
                        + "Subject: Grüße aus Köln — ✓\r\nMIME-Version: 1.0\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                        + "Schöne Grüße\r\n"),
                Arguments.of("encoded-word headers", "From: =?UTF-8?B?SsO2cmc=?= <j@example.com>\r\n"
                        + "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nx\r\n"),
                Arguments.of("empty body", "From: a@example.com\r\nSubject: nothing\r\n\r\n"),
                Arguments.of("headers only, no blank line", "From: a@example.com\r\nSubject: nothing\r\n"),
                Arguments.of("body without final CRLF", "From: a@example.com\r\nSubject: s\r\n\r\nno newline at end"),
                Arguments.of("dot-stuffed lines (as unstuffed by DATA)", "From: a@example.com\r\nSubject: dots\r\n\r\n"
                        + ".\r\n..\r\n.leading dot\r\n...three\r\nend\r\n"),
                Arguments.of("lone CR in a signed header and in the body", "From: a@example.com\r\n"
                        + "Subject: one\rtwo\r\n\r\nthree\rfour\r\n"),
                Arguments.of("repeated and over-signed fields", "From: a@example.com\r\nTo: x@example.org\r\n"
                        + "Received: from somewhere\r\nTo: y@example.org\r\nCc: z@example.org\r\n"
                        + "Reply-To: r@example.com\r\nSender: s@example.com\r\nIn-Reply-To: <p@example.com>\r\n\r\nb\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messages")
    void dkimpy_verifiesBothSignatures(String name, String message) throws Exception {
        assertThat(preferred.providerName()).isEqualTo("Conscrypt");
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        for (int chunk : new int[] {m.length, 7}) {
            DkimSigner signer = chunk == 7 ? preferred : jdk; // both providers, each verified independently
            Dkimpy.Verdict v = verify(signed(signer, m, DOMAIN, chunk));
            assertThat(v.verified()).as("%s, %s, chunk %d: %s", name, signer.providerName(), chunk, v.output())
                    .isTrue();
            assertThat(v.output()).contains("ok rsa-sha256 example.com rsa1", "ok ed25519-sha256 example.com ed1");
        }
    }

    @Test
    void idnDomain_signsAsALabels_andVerifies() throws Exception {
        byte[] m = "From: Jörg <joerg@bücher.example>\r\nSubject: idn\r\n\r\nhi\r\n".getBytes(StandardCharsets.UTF_8);
        Dkimpy.Verdict v = verify(signed(m, IDN_DOMAIN, m.length));
        assertThat(v.verified()).as(v.output()).isTrue();
        assertThat(v.output()).contains("ok rsa-sha256 xn--bcher-kva.example rsa1");
    }

    @Test
    void alteredAfterSigning_fails() throws Exception {
        String message = "From: a@example.com\r\nTo: b@example.org\r\nSubject: pay 10 EUR\r\n\r\nIBAN DE00 1234\r\n";
        byte[] good = signed(message.getBytes(StandardCharsets.US_ASCII), DOMAIN, 1000);
        assertThat(verify(good).verified()).as("the unaltered message verifies").isTrue();
        String s = new String(good, StandardCharsets.US_ASCII);
        List<String> altered = List.of(
                s.replace("IBAN DE00 1234", "IBAN DE99 6666"),
                s.replace("Subject: pay 10 EUR", "Subject: pay 99 EUR"),
                s.replace("To: b@example.org", "To: b@example.org, evil@example.net"),
                s + "appended line\r\n",
                s.replace("From: a@example.com\r\n", "From: a@example.com\r\nFrom: ceo@example.com\r\n"));
        for (String a : altered) {
            Dkimpy.Verdict v = verify(a.getBytes(StandardCharsets.US_ASCII));
            assertThat(v.verified()).as("altered message verified: %s", v.output()).isFalse();
            assertThat(v.output()).contains("fail");
        }
    }

    /** Runs {@link LargeMessageSigning} in a JVM of its own with a 64 MB heap; returns what it printed. */
    private static String signInChild(String classpath, Path out, int megabytes) throws Exception {
        Path rsaKey = dir.resolve("rsa.pk8");
        Path edKey = dir.resolve("ed.pk8");
        Files.write(rsaKey, rsa.getPrivate().getEncoded());
        Files.write(edKey, ed.getPrivate().getEncoded());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-cp", classpath, LargeMessageSigning.class.getName(), out.toString(), Integer.toString(megabytes),
                dir.resolve("spool").toString(),
                DOMAIN, "rsa1", rsaKey.toString(), "RSA", DOMAIN, "ed1", edKey.toString(), "Ed25519")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("the signer finished").isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return output;
    }

    /** The built jar (whose Java 22 classes sign RSA on OpenSSL) and the test classes, as a class path. */
    private static String jarClasspath() throws Exception {
        assumeTrue(Runtime.version().feature() >= 22, "the jar's OpenSSL signer needs Java 22+ (the build's JDK is "
                + Runtime.version().feature() + ")");
        Path jar = Path.of(System.getProperty("keyrelay.jar", "target/keyrelay.jar"));
        assertThat(jar).as("the jar, built by mvn package before the ITs").exists();
        String classes = Path.of(LargeMessageSigning.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        return jar + File.pathSeparator + classes;
    }

    @Test
    void fromTheJar_onJava22_rsaIsSignedByOpenSsl_andVerifies() throws Exception {
        Path out = dir.resolve("from-jar.eml");
        String output = signInChild(jarClasspath(), out, 2);
        assertThat(output).contains("signer=OpenSSL 3", "(RSA), Conscrypt");
        Dkimpy.Verdict v = Dkimpy.verify(dns.port(), out);
        assertThat(v.verified()).as(v.output()).isTrue();
        assertThat(v.output()).contains("ok rsa-sha256", "ok ed25519-sha256");
    }

    @Test
    void fromTheJar_openSslSignsConcurrently_exactlyAsConscryptDoes() throws Exception {
        Path rsaKey = dir.resolve("concurrent-rsa.pk8");
        Files.write(rsaKey, rsa.getPrivate().getEncoded());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", jarClasspath(),
                ConcurrentSigning.class.getName(), rsaKey.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("the signer finished").isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("signer=OpenSSL 3", "identical=800 of 800");
    }

    @Test
    void fiftyMegabyteBody_isSignedInASmallHeap_andVerifies() throws Exception {
        Path out = dir.resolve("big.eml");
        String output = signInChild(System.getProperty("java.class.path"), out, 50);
        assertThat(output).contains("spooled_on_disk=true", "signer=Conscrypt");
        long peak = Long.parseLong(output.replaceAll("(?s).*heap_peak_bytes=(\\d+).*", "$1"));
        assertThat(peak).as("heap peak while signing 50 MB").isLessThan(64L * 1024 * 1024);
        assertThat(Files.size(out)).isGreaterThan(50L * 1024 * 1024);
        try (var spooled = Files.list(dir.resolve("spool"))) {
            assertThat(spooled).as("no spool file is left").isEmpty();
        }
        Dkimpy.Verdict v = Dkimpy.verify(dns.port(), out);
        assertThat(v.verified()).as(v.output()).isTrue();
        assertThat(v.output()).contains("ok rsa-sha256", "ok ed25519-sha256");
    }
}
