package io.keyrelay.dkim;

import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * The DKIM signing algorithms keyrelay signs with: {@code rsa-sha256} (RFC 6376 section 3.3.1) and
 * {@code ed25519-sha256} (RFC 8463). Both hash the body with SHA-256 under the same canonicalisation, so one body
 * hash serves every signature of a message.
 */
public enum SigningAlgorithm {
    /**
     * RSA (PKCS#1 v1.5) over the SHA-256 of the signed data; keyrelay makes keys of 1024 or 2048 bits and signs with
     * an owner's of up to 4096.
     */
    RSA_SHA256("rsa-sha256", "rsa", "RSA", "SHA256withRSA"),
    /**
     * PureEdDSA Ed25519 over the SHA-256 of the signed data (RFC 8463 section 3: the hash, not the data, is what
     * Ed25519 signs).
     */
    ED25519_SHA256("ed25519-sha256", "ed25519", "Ed25519", "Ed25519");

    private final String tag;
    private final String keyType;
    private final String keyAlgorithm;
    private final String jcaSignature;

    SigningAlgorithm(String tag, String keyType, String keyAlgorithm, String jcaSignature) {
        this.tag = tag;
        this.keyType = keyType;
        this.keyAlgorithm = keyAlgorithm;
        this.jcaSignature = jcaSignature;
    }

    /** The {@code a=} tag value. */
    public String tag() {
        return tag;
    }

    /** The {@code k=} tag value of the DNS key record. */
    public String keyType() {
        return keyType;
    }

    /** The JCA key algorithm name ({@code KeyPairGenerator.getInstance}, {@code KeyFactory.getInstance}). */
    public String keyAlgorithm() {
        return keyAlgorithm;
    }

    /** The JCA signature algorithm name. */
    String jcaSignature() {
        return jcaSignature;
    }

    /**
     * A new key pair for this algorithm: RSA of {@code bits} (1024 or 2048, the lengths DKIM verifiers accept and
     * SparkPost offers); Ed25519 has one size and takes {@code bits} 0 or 256.
     *
     * @throws IllegalArgumentException for any other length
     */
    public KeyPair generateKeyPair(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(keyAlgorithm);
            if (this == RSA_SHA256) {
                if (bits != 1024 && bits != 2048) {
                    throw new IllegalArgumentException("dkim_key_length: " + bits + " is not 1024 or 2048");
                }
                g.initialize(bits);
            } else if (bits != 0 && bits != 256) {
                throw new IllegalArgumentException("an Ed25519 key has 256 bits, not " + bits);
            }
            return g.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no " + keyAlgorithm, e);
        }
    }

    /**
     * The private key stored as {@code pkcs8} (its {@link PrivateKey#getEncoded()} form, which is how a key is kept
     * at rest, encrypted).
     *
     * @throws InvalidKeySpecException if the bytes are not a PKCS#8 key of this algorithm
     */
    public PrivateKey privateKey(byte[] pkcs8) throws InvalidKeySpecException {
        try {
            return KeyFactory.getInstance(keyAlgorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no " + keyAlgorithm, e);
        }
    }

    /** The algorithm of a key, by its JCA algorithm name ({@code RSA}, {@code Ed25519}/{@code EdDSA}). */
    public static SigningAlgorithm of(java.security.Key key) {
        return switch (key.getAlgorithm()) {
            case "RSA" -> RSA_SHA256;
            case "Ed25519", "EdDSA", "1.3.101.112" -> ED25519_SHA256; // the OID: how Conscrypt names its keys
            default -> throw new IllegalArgumentException("no DKIM algorithm for a " + key.getAlgorithm() + " key");
        };
    }

    /**
     * The {@code p=} value to publish for {@code key}: for RSA the base64 of its SubjectPublicKeyInfo (RFC 6376
     * section 3.6.1), for Ed25519 the base64 of the bare 32-byte key (RFC 8463 section 4).
     */
    public String publicKeyValue(PublicKey key) {
        byte[] spki = key.getEncoded();
        byte[] p = this == ED25519_SHA256 ? Arrays.copyOfRange(spki, spki.length - 32, spki.length) : spki;
        return Base64.getEncoder().encodeToString(p);
    }

    /** The whole TXT record to publish at {@code <selector>._domainkey.<domain>}. */
    public String dnsRecord(PublicKey key) {
        return "v=DKIM1; k=" + keyType + (this == RSA_SHA256 ? "; h=sha256" : "") + "; p=" + publicKeyValue(key);
    }
}
