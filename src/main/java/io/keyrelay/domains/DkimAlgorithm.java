package io.keyrelay.domains;

import io.keyrelay.dkim.SigningAlgorithm;
import java.util.Locale;

/**
 * The key types a sending domain's DKIM keys have, as stored ({@code dkim_keys.algorithm}): RSA (RFC 6376) and
 * Ed25519 (RFC 8463). The names, key generation and key formats are the signer's ({@link SigningAlgorithm}).
 */
public enum DkimAlgorithm {
    RSA(SigningAlgorithm.RSA_SHA256),
    ED25519(SigningAlgorithm.ED25519_SHA256);

    private final SigningAlgorithm signing;

    DkimAlgorithm(SigningAlgorithm signing) {
        this.signing = signing;
    }

    /** The signer's algorithm for keys of this type. */
    public SigningAlgorithm signing() {
        return signing;
    }

    /** The record's {@code k=} tag: {@code rsa} or {@code ed25519}. */
    public String keyType() {
        return signing.keyType();
    }

    /** The signature's {@code a=} tag: {@code rsa-sha256} or {@code ed25519-sha256}. */
    public String signatureAlgorithm() {
        return signing.tag();
    }

    static DkimAlgorithm of(String keyType) {
        return valueOf(keyType.toUpperCase(Locale.ROOT));
    }
}
