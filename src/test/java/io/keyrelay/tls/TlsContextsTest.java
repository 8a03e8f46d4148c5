package io.keyrelay.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TlsContextsTest {
    @TempDir
    Path dir;

    private static KeyPair keyPair(String alg) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        if (alg.equals("EC")) {
            g.initialize(new ECGenParameterSpec("secp256r1"));
        } else {
            g.initialize(2048);
        }
        return g.generateKeyPair();
    }

    private static X509Certificate cert(KeyPair kp, String sigAlg) throws Exception {
        X500Name n = new X500Name("CN=localhost");
        var b = new JcaX509v3CertificateBuilder(n, BigInteger.ONE, Date.from(Instant.now().minusSeconds(60)),
                Date.from(Instant.now().plus(Duration.ofDays(1))), n, kp.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(sigAlg).build(kp.getPrivate())));
    }

    private static String pem(Object o) throws Exception {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
        }
        return w.toString();
    }

    /** Runs openssl (as operators make their keys) in the temp directory. */
    private void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    @ParameterizedTest
    @CsvSource({
        "'genrsa -traditional -out key.pem 2048', BEGIN RSA PRIVATE KEY",
        "'genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem', BEGIN PRIVATE KEY",
        "'ecparam -name prime256v1 -genkey -noout -out key.pem', BEGIN EC PRIVATE KEY",
        "'genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem', BEGIN PRIVATE KEY"})
    void serverContext_fromOpensslPem_rsaAndEc_pkcs1AndPkcs8_completesAHandshake(String genKey, String marker)
            throws Exception {
        openssl(genKey.split(" "));
        openssl("req", "-x509", "-key", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost");
        Path certFile = dir.resolve("cert.pem");
        Path keyFile = dir.resolve("key.pem");
        assertThat(Files.readString(keyFile)).contains(marker);

        SSLContext server = TlsContexts.server(certFile, keyFile);
        SSLContext client = TlsContexts.client(certFile);
        try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            ss.setEnabledProtocols(TlsContexts.PROTOCOLS);
            Thread t = Thread.ofVirtual().start(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.getOutputStream().write(42);
                } catch (Exception e) {
                    // the client's assertion reports a failure
                }
            });
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket("localhost", ss.getLocalPort())) {
                var p = c.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                c.setSSLParameters(p);
                assertThat(c.getInputStream().read()).isEqualTo(42);
                assertThat(c.getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
            }
            t.join();
        }
    }

    @Test
    void keyOfAnotherCertificate_isRefusedNamingTheFiles() throws Exception {
        Path certFile = dir.resolve("cert.pem");
        Path keyFile = dir.resolve("other.pem");
        Files.writeString(certFile, pem(cert(keyPair("EC"), "SHA256withECDSA")));
        Files.writeString(keyFile, pem(new JcaPKCS8Generator(keyPair("EC").getPrivate(), null)));
        assertThatThrownBy(() -> TlsContexts.server(certFile, keyFile))
                .hasMessageContaining("other.pem").hasMessageContaining("does not belong");
    }

    @Test
    void missingOrGarbageFiles_giveClearErrors() throws Exception {
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "not pem at all");
        assertThatThrownBy(() -> TlsContexts.server(dir.resolve("nope.pem"), garbage)).hasMessageContaining("nope.pem");
        Path certFile = dir.resolve("c.pem");
        Files.writeString(certFile, pem(cert(keyPair("EC"), "SHA256withECDSA")));
        assertThatThrownBy(() -> TlsContexts.server(certFile, garbage)).hasMessageContaining("no private key found");
    }

    @Test
    void selfSigned_isUsableAsServerAndTrustAnchor() throws Exception {
        Path c = dir.resolve("dev/cert.pem");
        Path k = dir.resolve("dev/key.pem");
        SelfSignedCertificate.write(c, k, List.of("relay.example", "10.1.2.3"), Duration.ofDays(1));
        assertThat(TlsContexts.server(c, k)).isNotNull();
        assertThat(TlsContexts.client(c)).isNotNull();
        X509Certificate x = TlsContexts.readCertificates(c).get(0);
        assertThat(x.getSubjectAlternativeNames()).extracting(l -> l.get(1).toString())
                .contains("localhost", "127.0.0.1", "relay.example", "10.1.2.3");
        assertThat(Files.getPosixFilePermissions(k).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
    }
}
