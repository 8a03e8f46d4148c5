package io.keyrelay.dkim;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * Reads RSA keys as people hand them over for DKIM: PEM ({@code BEGIN PRIVATE KEY}, {@code BEGIN RSA PRIVATE KEY},
 * {@code BEGIN PUBLIC KEY}, {@code BEGIN RSA PUBLIC KEY}) or bare base64 of the DER, in PKCS#8 / X.509
 * SubjectPublicKeyInfo or in PKCS#1 — the formats SparkPost's sending-domains API takes. A PKCS#1 key is wrapped in
 * the PKCS#8 (or SubjectPublicKeyInfo) envelope, which is all the JDK reads. Password-protected keys are refused.
 * Error messages describe the input's form, never its content.
 */
public final class RsaKeyText {
    /** rsaEncryption (1.2.840.113549.1.1.1) with its NULL parameters, as a DER AlgorithmIdentifier. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

    private RsaKeyText() {}

    /**
     * The RSA private key in {@code text}.
     *
     * @throws IllegalArgumentException saying what is wrong with it (not RSA, encrypted, not a key)
     */
    public static RSAPrivateKey privateKey(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        if (t.contains("ENCRYPTED")) {
            throw new IllegalArgumentException("is password-protected; give the key unencrypted (openssl pkey -in"
                    + " KEY -out PLAIN)");
        }
        byte[] der;
        Boolean pkcs1 = null;
        if (t.startsWith("-----BEGIN ")) {
            String label = label(t);
            switch (label) {
                case "PRIVATE KEY" -> pkcs1 = false;
                case "RSA PRIVATE KEY" -> pkcs1 = true;
                default -> throw new IllegalArgumentException("is a PEM " + label + "; expected BEGIN PRIVATE KEY"
                        + " (PKCS#8) or BEGIN RSA PRIVATE KEY (PKCS#1)");
            }
            der = pemBody(t, label);
        } else {
            der = base64(t);
        }
        try {
            if (pkcs1 == null) { // bare base64: PKCS#8, else PKCS#1
                try {
                    return rsaPrivate(der);
                } catch (GeneralSecurityException e) {
                    return rsaPrivateFromPkcs1(der);
                }
            }
            return pkcs1 ? rsaPrivateFromPkcs1(der) : rsaPrivate(der);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("is not an RSA private key in PKCS#8 or PKCS#1 (PEM or base64)");
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    private static RSAPrivateKey rsaPrivateFromPkcs1(byte[] pkcs1) throws GeneralSecurityException {
        byte[] pkcs8 = wrapPrivate(pkcs1);
        try {
            return rsaPrivate(pkcs8);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * The RSA public key in {@code text}: PEM, or base64 of a SubjectPublicKeyInfo (what a DKIM record's {@code p=}
     * holds) or of a PKCS#1 RSAPublicKey.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static RSAPublicKey publicKey(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        byte[] der;
        if (t.startsWith("-----BEGIN ")) {
            String label = label(t);
            if (!label.equals("PUBLIC KEY") && !label.equals("RSA PUBLIC KEY")) {
                throw new IllegalArgumentException("is a PEM " + label + "; expected BEGIN PUBLIC KEY");
            }
            der = pemBody(t, label);
        } else {
            der = base64(t);
        }
        try {
            KeyFactory f = KeyFactory.getInstance("RSA");
            PublicKey k;
            try {
                k = f.generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                k = f.generatePublic(new X509EncodedKeySpec(wrapPublic(der)));
            }
            return (RSAPublicKey) k;
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("is not an RSA public key (SubjectPublicKeyInfo or PKCS#1, PEM or"
                    + " base64)");
        }
    }

    /**
     * The public half of {@code key}, from the public exponent a PKCS#1 or PKCS#8 RSA key carries.
     *
     * @throws IllegalArgumentException if the key has none (a bare modulus-and-exponent key)
     */
    public static RSAPublicKey publicHalf(RSAPrivateKey key) {
        if (!(key instanceof RSAPrivateCrtKey crt) || crt.getPublicExponent().signum() <= 0) {
            throw new IllegalArgumentException("carries no public exponent; give the public key too");
        }
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(crt.getModulus(),
                    crt.getPublicExponent()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("has a public half the JDK cannot read");
        }
    }

    /** True if {@code pub} is the public half of {@code priv}: same modulus, and a signature made by one checks. */
    public static boolean matches(RSAPrivateKey priv, RSAPublicKey pub) {
        if (!priv.getModulus().equals(pub.getModulus())) {
            return false;
        }
        try {
            byte[] probe = "keyrelay DKIM key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance("SHA256withRSA");
            s.initSign(priv);
            s.update(probe);
            byte[] sig = s.sign();
            java.security.Signature v = java.security.Signature.getInstance("SHA256withRSA");
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The modulus length in bits. */
    public static int bits(RSAPrivateKey key) {
        BigInteger n = key.getModulus();
        return n.bitLength();
    }

    private static RSAPrivateKey rsaPrivate(byte[] pkcs8) throws GeneralSecurityException {
        PrivateKey k = SigningAlgorithm.RSA_SHA256.privateKey(pkcs8);
        if (!(k instanceof RSAPrivateKey r)) {
            throw new java.security.spec.InvalidKeySpecException("not RSA");
        }
        return r;
    }

    private static String label(String pem) {
        int end = pem.indexOf("-----", 11);
        if (end < 0) {
            throw new IllegalArgumentException("is a PEM block without its BEGIN line's closing dashes");
        }
        return pem.substring(11, end).strip().toUpperCase(Locale.ROOT);
    }

    private static byte[] pemBody(String pem, String label) {
        int start = pem.indexOf('\n');
        int end = pem.indexOf("-----END " + label + "-----");
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("is a PEM block without its END " + label + " line");
        }
        return base64(pem.substring(start + 1, end));
    }

    private static byte[] base64(String text) {
        try {
            return Base64.getDecoder().decode(text.replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is neither PEM nor base64 (from binary DER: openssl pkey -inform DER -in KEY)");
        }
    }

    /** PKCS#8 PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { the PKCS#1 key } }. */
    static byte[] wrapPrivate(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.writeBytes(tlv(0x04, pkcs1));
        return tlv(0x30, body.toByteArray());
    }

    /** SubjectPublicKeyInfo { rsaEncryption, BIT STRING { the PKCS#1 RSAPublicKey } }. */
    static byte[] wrapPublic(byte[] pkcs1) {
        byte[] bits = new byte[pkcs1.length + 1]; // a leading 0: no unused bits
        System.arraycopy(pkcs1, 0, bits, 1, pkcs1.length);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(RSA_ALGORITHM);
        body.writeBytes(tlv(0x03, bits));
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n <= 0xff) {
            out.write(0x81);
            out.write(n);
        } else if (n <= 0xffff) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(value);
        return out.toByteArray();
    }
}
