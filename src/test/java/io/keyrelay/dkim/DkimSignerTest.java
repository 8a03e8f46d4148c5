package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.security.interfaces.RSAKey;
import java.security.spec.InvalidKeySpecException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DkimSignerTest {
    private static KeyPair rsa;
    private static KeyPair ed;
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC);
    private static final String MESSAGE = "Received: from x\r\nFrom: A <a@example.com>\r\nTo: b@example.org\r\n"
            + "To: c@example.org\r\nSubject: hi\r\nX-Mailer: not signed\r\nMIME-Version: 1.0\r\n\r\nbody\r\n";

    @BeforeAll
    static void keys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        rsa = g.generateKeyPair();
        ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    private static MessageScan scan(String message) throws IOException {
        MessageScan s = new MessageScan();
        s.write(message.getBytes(StandardCharsets.UTF_8));
        s.finish();
        return s;
    }

    private static String tag(String field, String name) {
        String unfolded = field.replaceAll("\r\n\t", " ");
        Matcher m = Pattern.compile("(?:^|[; ])" + name + "=([^;]*)").matcher(unfolded.substring(unfolded.indexOf(':') + 1));
        assertThat(m.find()).as("tag %s in %s", name, field).isTrue();
        return m.group(1).replaceAll("\\s", "");
    }

    /** Checks a signature field the way a verifier does, using this package's canonicalisation. */
    private static boolean verifies(MessageScan message, String field, PublicKey key) throws GeneralSecurityException {
        List<String> h = List.of(tag(field, "h").split(":"));
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(DkimSigner.signedHeaderData(message.headers(), h));
        String withoutB = field.substring(0, field.lastIndexOf("b=") + 2);
        RelaxedHeader.appendWithoutCrlf(HeaderField.of(withoutB.getBytes(StandardCharsets.US_ASCII)), data);
        byte[] b = Base64.getDecoder().decode(tag(field, "b"));
        boolean ed25519 = key.getAlgorithm().startsWith("Ed");
        Signature s = Signature.getInstance(ed25519 ? "Ed25519" : "SHA256withRSA");
        s.initVerify(key);
        s.update(ed25519 ? MessageDigest.getInstance("SHA-256").digest(data.toByteArray()) : data.toByteArray());
        return s.verify(b);
    }

    private static List<String> fields(byte[] signed) {
        String all = new String(signed, StandardCharsets.US_ASCII);
        return List.of(all.split("(?=DKIM-Signature:)"));
    }

    @Test
    void signsWithEachKey_oneFieldPerKey_inOrder() throws Exception {
        DkimSigner signer = new DkimSigner(CLOCK);
        MessageScan m = scan(MESSAGE);
        byte[] out = signer.sign(m, List.of(new SigningKey("Example.COM", "rsa1", rsa.getPrivate()),
                new SigningKey("example.com", "ed1", ed.getPrivate())));
        List<String> f = fields(out);
        assertThat(f).hasSize(2);
        assertThat(tag(f.get(0), "a")).isEqualTo("rsa-sha256");
        assertThat(tag(f.get(1), "a")).isEqualTo("ed25519-sha256");
        assertThat(tag(f.get(0), "d")).isEqualTo("example.com");
        assertThat(tag(f.get(0), "s")).isEqualTo("rsa1");
        assertThat(tag(f.get(0), "c")).isEqualTo("relaxed/relaxed");
        assertThat(tag(f.get(0), "t")).isEqualTo("1800000000");
        assertThat(tag(f.get(0), "bh")).isEqualTo(Base64.getEncoder().encodeToString(m.bodyHash()));
        assertThat(verifies(m, f.get(0), rsa.getPublic())).isTrue();
        assertThat(verifies(m, f.get(1), ed.getPublic())).isTrue();
        assertThat(verifies(scan(MESSAGE.replace("Subject: hi", "Subject: ho")), f.get(0), rsa.getPublic())).isFalse();
    }

    @Test
    void preferredSigner_isConscrypt_andItsSignaturesVerifyOnTheJdk() throws Exception {
        DkimSigner signer = DkimSigner.preferred(CLOCK);
        assertThat(signer.providerName()).isEqualTo("Conscrypt");
        SigningKey r = signer.importKey(new SigningKey("example.com", "rsa1", rsa.getPrivate()));
        SigningKey e = signer.importKey(new SigningKey("example.com", "ed1", ed.getPrivate()));
        assertThat(r.privateKey()).isNotSameAs(rsa.getPrivate());
        MessageScan m = scan(MESSAGE);
        List<String> f = fields(signer.sign(m, List.of(r, e)));
        assertThat(verifies(m, f.get(0), rsa.getPublic())).isTrue();
        assertThat(verifies(m, f.get(1), ed.getPublic())).isTrue();
        assertThat(tag(f.get(1), "a")).isEqualTo("ed25519-sha256");
    }

    @Test
    void onePrivateKeyOperation_perKeyPerMessage() throws Exception {
        CountingSignature.SIGNS.set(0);
        DkimSigner signer = new DkimSigner(CLOCK, new CountingProvider());
        MessageScan m = scan(MESSAGE);
        byte[] out = signer.sign(m, List.of(new SigningKey("example.com", "rsa1", rsa.getPrivate()),
                new SigningKey("example.org", "rsa2", rsa.getPrivate())));
        assertThat(CountingSignature.SIGNS.get()).isEqualTo(2);
        assertThat(fields(out)).hasSize(2);
        assertThat(verifies(m, fields(out).get(1), rsa.getPublic())).isTrue();
    }

    /** A provider whose SHA256withRSA counts its sign() calls and delegates to the JDK's. */
    static final class CountingProvider extends Provider {
        private static final long serialVersionUID = 1L;

        CountingProvider() {
            super("Counting", "1", "counts private-key operations");
            put("Signature.SHA256withRSA", CountingSignature.class.getName());
        }
    }

    /** Delegates to the JDK's SHA256withRSA, counting signatures. */
    public static final class CountingSignature extends SignatureSpi {
        static final AtomicInteger SIGNS = new AtomicInteger();
        private final Signature real;

        public CountingSignature() throws GeneralSecurityException {
            real = Signature.getInstance("SHA256withRSA", "SunRsaSign");
        }

        @Override
        protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
            real.initVerify(publicKey);
        }

        @Override
        protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
            real.initSign(privateKey);
        }

        @Override
        protected void engineUpdate(byte b) throws SignatureException {
            real.update(b);
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
            real.update(b, off, len);
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            SIGNS.incrementAndGet();
            return real.sign();
        }

        @Override
        protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
            return real.verify(sigBytes);
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void headerList_signsPresentFieldsAsOftenAsTheyOccur_andOverSignsFrom() throws Exception {
        assertThat(DkimSigner.headerList(scan(MESSAGE).headers()))
                .containsExactly("from", "from", "subject", "to", "to", "mime-version");
        assertThat(DkimSigner.headerList(scan("Subject: x\r\n\r\n").headers())).containsExactly("from", "subject");
    }

    @Test
    void field_isFoldedIntoShortLines_endingInCrlf() throws Exception {
        StringBuilder many = new StringBuilder();
        for (String name : DkimSigner.SIGNED_FIELDS) {
            many.append(name).append(": v\r\n");
        }
        byte[] out = new DkimSigner(CLOCK).sign(scan(many + "\r\n"), List.of(new SigningKey("mail.example.com",
                "selector-2026-12", ed.getPrivate())));
        String field = new String(out, StandardCharsets.US_ASCII);
        assertThat(field).endsWith("\r\n").startsWith("DKIM-Signature: v=1; ");
        String[] lines = field.substring(0, field.length() - 2).split("\r\n", -1);
        assertThat(lines.length).isGreaterThan(4);
        for (int i = 0; i < lines.length; i++) {
            assertThat(lines[i].length()).as("line %d", i).isLessThanOrEqualTo(78);
            if (i > 0) {
                assertThat(lines[i]).startsWith("\t");
            }
        }
        assertThat(tag(field, "h").split(":")).hasSize(DkimSigner.SIGNED_FIELDS.size() + 1);
    }

    @Test
    void truncatedHeaderBlock_isNotSigned() throws IOException {
        MessageScan s = new MessageScan(64, null);
        s.write(("From: a@example.com\r\nX-Pad: " + "x".repeat(200) + "\r\n\r\nbody").getBytes(StandardCharsets.US_ASCII));
        s.finish();
        assertThatThrownBy(() -> new DkimSigner(CLOCK).sign(s, List.of(new SigningKey("example.com", "s",
                rsa.getPrivate())))).isInstanceOf(DkimException.class).hasMessageContaining("too large");
    }

    @Test
    void key_isValidated_andNeverShown() {
        SigningKey k = new SigningKey("bücher.de", "sel-1.x", rsa.getPrivate());
        assertThat(k.domain()).isEqualTo("xn--bcher-kva.de");
        assertThat(k.toString()).contains("rsa-sha256", "xn--bcher-kva.de", "sel-1.x", "hidden")
                .doesNotContain(Base64.getEncoder().encodeToString(rsa.getPrivate().getEncoded()).substring(0, 20));
        assertThatThrownBy(() -> new SigningKey("example.com", "bad selector", rsa.getPrivate()))
                .hasMessageContaining("selector");
        assertThatThrownBy(() -> new SigningKey("exa mple.com", "s", rsa.getPrivate())).isInstanceOf(
                IllegalArgumentException.class);
    }

    @Test
    void keyPairs_areGenerated_andStoredKeysReadBack() throws Exception {
        KeyPair r = SigningAlgorithm.RSA_SHA256.generateKeyPair(1024);
        assertThat(((RSAKey) r.getPrivate()).getModulus().bitLength()).isEqualTo(1024);
        assertThat(SigningAlgorithm.RSA_SHA256.privateKey(r.getPrivate().getEncoded())).isEqualTo(r.getPrivate());
        KeyPair e = SigningAlgorithm.ED25519_SHA256.generateKeyPair(0);
        assertThat(SigningAlgorithm.of(e.getPublic())).isEqualTo(SigningAlgorithm.ED25519_SHA256);
        assertThat(SigningAlgorithm.ED25519_SHA256.privateKey(e.getPrivate().getEncoded()).getEncoded())
                .isEqualTo(e.getPrivate().getEncoded());
        assertThatThrownBy(() -> SigningAlgorithm.RSA_SHA256.generateKeyPair(4096)).hasMessageContaining("1024 or 2048");
        assertThatThrownBy(() -> SigningAlgorithm.RSA_SHA256.privateKey(e.getPrivate().getEncoded()))
                .isInstanceOf(InvalidKeySpecException.class);
    }

    @Test
    void dnsRecord_rsaIsSpki_ed25519IsTheBareKey() {
        assertThat(SigningAlgorithm.RSA_SHA256.dnsRecord(rsa.getPublic())).startsWith("v=DKIM1; k=rsa; h=sha256; p=MIIB");
        String p = SigningAlgorithm.ED25519_SHA256.publicKeyValue(ed.getPublic());
        assertThat(Base64.getDecoder().decode(p)).hasSize(32);
        assertThat(SigningAlgorithm.ED25519_SHA256.dnsRecord(ed.getPublic())).isEqualTo("v=DKIM1; k=ed25519; p=" + p);
    }
}
