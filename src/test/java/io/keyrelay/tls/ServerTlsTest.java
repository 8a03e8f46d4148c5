package io.keyrelay.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyrelay.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificate renewal without a restart, checked on files and key managers directly (no sockets). */
class ServerTlsTest {
    @TempDir
    Path dir;

    /** A certbot-like layout: archive/certN.pem and keyN.pem, with live/ symlinks to the current pair. */
    private Path archive(int n) throws Exception {
        Path cert = dir.resolve("archive/cert" + n + ".pem");
        SelfSignedCertificate.write(cert, dir.resolve("archive/key" + n + ".pem"), List.of(), Duration.ofDays(n));
        return cert;
    }

    private void point(String live, String target) throws Exception {
        Path link = dir.resolve("live/" + live);
        Files.createDirectories(link.getParent());
        Path tmp = dir.resolve("live/." + live + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, dir.resolve("archive/" + target));
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private ServerTls liveTls() {
        return ServerTls.load(dir.resolve("live/cert.pem"), dir.resolve("live/key.pem"));
    }

    private static X509Certificate pem(Path cert) {
        return TlsContexts.readCertificates(cert).get(0);
    }

    @Test
    void unchangedFiles_areNotReloaded() throws Exception {
        archive(1);
        point("cert.pem", "cert1.pem");
        point("key.pem", "key1.pem");
        try (ServerTls tls = liveTls()) {
            assertThat(tls.reloadIfChanged()).isFalse();
            assertThat(tls.certificate()).isEqualTo(pem(dir.resolve("archive/cert1.pem")));
        }
    }

    @Test
    void symlinksSwappedToANewPair_areServedFromTheNextCheck() throws Exception {
        archive(1);
        Path second = archive(2);
        point("cert.pem", "cert1.pem");
        point("key.pem", "key1.pem");
        try (ServerTls tls = liveTls()) {
            point("cert.pem", "cert2.pem");
            point("key.pem", "key2.pem");
            assertThat(tls.reloadIfChanged()).isTrue();
            assertThat(tls.certificate()).isEqualTo(pem(second));
            assertThat(tls.reloadIfChanged()).isFalse();
        }
    }

    @Test
    void filesRewrittenInPlace_areServedToo() throws Exception {
        Path cert = dir.resolve("tls/cert.pem");
        Path key = dir.resolve("tls/key.pem");
        SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(1));
        try (ServerTls tls = ServerTls.load(cert, key)) {
            SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(2));
            assertThat(tls.reloadIfChanged()).isTrue();
            assertThat(tls.certificate()).isEqualTo(pem(cert));
        }
    }

    @Test
    void aPairThatDoesNotLoad_keepsTheCurrentCertificate_andIsLoggedOnceWhenItStays() throws Exception {
        X509Certificate first = pem(archive(1));
        Path second = archive(2);
        point("cert.pem", "cert1.pem");
        point("key.pem", "key1.pem");
        Files.writeString(dir.resolve("archive/broken.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n");
        try (ServerTls tls = liveTls(); LogCapture log = LogCapture.of("io.keyrelay.tls")) {
            point("cert.pem", "cert2.pem"); // the renewal is half done: new certificate, old key
            assertThat(tls.reloadIfChanged()).isFalse();
            assertThat(log.atLeast(ch.qos.logback.classic.Level.WARN)).as("one check may fall mid-renewal").isEmpty();
            assertThat(tls.reloadIfChanged()).isFalse();
            assertThat(log.atLeast(ch.qos.logback.classic.Level.ERROR)).singleElement().asString()
                    .contains("private key does not belong to the certificate").contains("still serving");
            assertThat(tls.reloadIfChanged()).isFalse();
            assertThat(log.atLeast(ch.qos.logback.classic.Level.ERROR)).as("logged once").hasSize(1);
            assertThat(tls.certificate()).isEqualTo(first);

            point("key.pem", "key2.pem");
            assertThat(tls.reloadIfChanged()).isTrue();
            assertThat(tls.certificate()).isEqualTo(pem(second));

            point("cert.pem", "broken.pem");
            tls.reloadIfChanged();
            tls.reloadIfChanged();
            assertThat(log.atLeast(ch.qos.logback.classic.Level.ERROR)).hasSize(2).last().asString()
                    .contains("not a PEM certificate file");
            Files.delete(dir.resolve("archive/cert1.pem"));
            point("cert.pem", "cert1.pem"); // a dangling link
            tls.reloadIfChanged();
            tls.reloadIfChanged();
            assertThat(log.atLeast(ch.qos.logback.classic.Level.ERROR)).hasSize(3).last().asString()
                    .contains("no such file");
            assertThat(tls.certificate()).isEqualTo(pem(second));
        }
    }

    @Test
    void aHandshakeThatStartedBeforeASwap_getsTheKeyOfTheCertificateItChose() throws Exception {
        Path c1 = archive(1);
        archive(2);
        TlsContexts.Identity one = TlsContexts.identity(Files.readAllBytes(c1), "1",
                Files.readAllBytes(dir.resolve("archive/key1.pem")), "1");
        TlsContexts.Identity two = TlsContexts.identity(Files.readAllBytes(dir.resolve("archive/cert2.pem")), "2",
                Files.readAllBytes(dir.resolve("archive/key2.pem")), "2");
        ReloadingKeyManager keys = new ReloadingKeyManager(one.keyManager());
        String chosen = keys.chooseServerAlias(one.leaf().getPublicKey().getAlgorithm(), null, null);
        keys.replace(two.keyManager());
        assertThat(keys.getCertificateChain(chosen)[0]).isEqualTo(one.leaf());
        PrivateKey key = keys.getPrivateKey(chosen);
        assertThat(key).isEqualTo(one.keyManager().getPrivateKey("keyrelay"));
        String next = keys.chooseServerAlias(two.leaf().getPublicKey().getAlgorithm(), null, null);
        assertThat(keys.getCertificateChain(next)[0]).isEqualTo(two.leaf());
        keys.replace(one.keyManager());
        keys.replace(two.keyManager());
        assertThat(keys.getPrivateKey(chosen)).as("two generations on, an old alias names nothing").isNull();
    }

    @Test
    void anUnusablePairAtStart_isAnErrorNamingTheFile() throws Exception {
        Path cert = archive(1);
        Files.writeString(dir.resolve("archive/garbage.pem"), "nothing here");
        assertThatThrownBy(() -> ServerTls.load(cert, dir.resolve("archive/garbage.pem")))
                .isInstanceOf(TlsContexts.TlsMaterialException.class).hasMessageContaining("garbage.pem");
    }
}
