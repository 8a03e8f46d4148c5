package io.keyrelay.keys;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns a raw API key into the hash that is stored and looked up: hex SHA-256, or hex HMAC-SHA-256 keyed with
 * a server-side pepper ({@code keys.pepper}).
 *
 * <p>A fast hash is right here: keys are 160-bit random secrets, so there is nothing for a slow password hash
 * to protect against, and it would slow every AUTH. With a pepper, a stolen database alone does not even allow
 * an offline check of a guessed key. Changing the pepper invalidates every existing key.
 *
 * <p>Thread-safe: each call clones a prepared prototype, which is cheaper than a provider lookup.
 */
public final class KeyHasher {
    private static final HexFormat HEX = HexFormat.of();
    private final MessageDigest digestPrototype;
    private final Mac macPrototype;

    private KeyHasher(MessageDigest digest, Mac mac) {
        this.digestPrototype = digest;
        this.macPrototype = mac;
    }

    public static KeyHasher sha256() {
        try {
            return new KeyHasher(MessageDigest.getInstance("SHA-256"), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    public static KeyHasher hmacSha256(String pepper) {
        if (pepper == null || pepper.isEmpty()) {
            return sha256();
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(pepper.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return new KeyHasher(null, mac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** Hashes a raw key to 64 lowercase hex characters. */
    public String hash(String rawKey) {
        byte[] input = rawKey.getBytes(StandardCharsets.UTF_8);
        try {
            if (macPrototype != null) {
                Mac mac = (Mac) macPrototype.clone();
                return HEX.formatHex(mac.doFinal(input));
            }
            MessageDigest md = (MessageDigest) digestPrototype.clone();
            return HEX.formatHex(md.digest(input));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("hash implementation cannot be cloned", e);
        }
    }

    public boolean peppered() {
        return macPrototype != null;
    }
}
