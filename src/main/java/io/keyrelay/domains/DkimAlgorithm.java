package io.keyrelay.domains;

import java.util.Locale;

/** The key types keyrelay signs with: RSA (RFC 6376) and Ed25519 (RFC 8463), each with SHA-256. */
public enum DkimAlgorithm {
    RSA("rsa", "rsa-sha256"),
    ED25519("ed25519", "ed25519-sha256");

    private final String keyType;
    private final String signatureAlgorithm;

    DkimAlgorithm(String keyType, String signatureAlgorithm) {
        this.keyType = keyType;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    /** The record's {@code k=} tag: {@code rsa} or {@code ed25519}. */
    public String keyType() {
        return keyType;
    }

    /** The signature's {@code a=} tag: {@code rsa-sha256} or {@code ed25519-sha256}. */
    public String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    static DkimAlgorithm of(String keyType) {
        return valueOf(keyType.toUpperCase(Locale.ROOT));
    }
}
