package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyrelay.testing.DkimKeys;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RsaKeyTextTest {
    private static KeyPair pair;
    private static KeyPair other;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        pair = g.generateKeyPair();
        other = g.generateKeyPair();
    }

    @Test
    void privateKey_readsPkcs8AndPkcs1_asPemOrBareBase64_toTheSameKey() {
        byte[] p8 = pair.getPrivate().getEncoded();
        byte[] p1 = DkimKeys.pkcs1(pair.getPrivate());
        assertThat(RsaKeyText.wrapPrivate(p1)).as("PKCS#1 wrapped is the JDK's PKCS#8").isEqualTo(p8);
        for (String text : new String[] {DkimKeys.pem("PRIVATE KEY", p8), DkimKeys.pem("RSA PRIVATE KEY", p1),
                Base64.getEncoder().encodeToString(p8), Base64.getEncoder().encodeToString(p1),
                "\n  " + Base64.getMimeEncoder().encodeToString(p1) + "\r\n"}) {
            assertThat(RsaKeyText.privateKey(text).getEncoded()).isEqualTo(p8);
        }
        assertThat(RsaKeyText.bits(RsaKeyText.privateKey(Base64.getEncoder().encodeToString(p8)))).isEqualTo(1024);
    }

    @Test
    void publicKey_readsSpkiAndPkcs1_andPublicHalfMatchesOnlyItsOwnPrivateKey() {
        byte[] spki = pair.getPublic().getEncoded();
        byte[] p1 = Arrays.copyOfRange(spki, 22, spki.length); // SEQUENCE, AlgorithmIdentifier, BIT STRING header
        assertThat(RsaKeyText.wrapPublic(p1)).isEqualTo(spki);
        for (String text : new String[] {DkimKeys.pem("PUBLIC KEY", spki), Base64.getEncoder().encodeToString(spki),
                Base64.getEncoder().encodeToString(p1), DkimKeys.pem("RSA PUBLIC KEY", p1)}) {
            assertThat(RsaKeyText.publicKey(text).getEncoded()).isEqualTo(spki);
        }
        var priv = RsaKeyText.privateKey(Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()));
        RSAPublicKey half = RsaKeyText.publicHalf(priv);
        assertThat(half.getEncoded()).isEqualTo(spki);
        assertThat(RsaKeyText.matches(priv, half)).isTrue();
        assertThat(RsaKeyText.matches(priv, (RSAPublicKey) other.getPublic())).isFalse();
    }

    @Test
    void badInput_isRefused_withAMessageThatNeverRepeatsTheInput() {
        String secretish = "c2VjcmV0LWJ1dC1ub3QtYS1rZXk=";
        assertThatThrownBy(() -> RsaKeyText.privateKey(secretish)).hasMessageContaining("not an RSA private key")
                .hasMessageNotContaining(secretish);
        assertThatThrownBy(() -> RsaKeyText.privateKey("")).hasMessage("is empty");
        assertThatThrownBy(() -> RsaKeyText.privateKey("%%%")).hasMessageContaining("neither PEM nor base64");
        assertThatThrownBy(() -> RsaKeyText.privateKey(DkimKeys.pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2})))
                .hasMessageContaining("password-protected");
        assertThatThrownBy(() -> RsaKeyText.privateKey(DkimKeys.pem("CERTIFICATE", new byte[] {1, 2})))
                .hasMessageContaining("PEM CERTIFICATE");
        assertThatThrownBy(() -> RsaKeyText.privateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n"))
                .hasMessageContaining("END PRIVATE KEY");
        assertThatThrownBy(() -> RsaKeyText.publicKey(Base64.getEncoder().encodeToString(new byte[] {0x30, 0})))
                .hasMessageContaining("not an RSA public key");
    }
}
