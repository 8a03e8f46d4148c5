package io.keyrelay.domains;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret ({@code dkim.master_key}: 32 random bytes, base64) under which DKIM private keys are kept in the store:
 * AES-256-GCM with a fresh 96-bit nonce per key, and the domain and selector as associated data, so a sealed key
 * copied to another row (or another domain) no longer opens. Sealed text is {@code v1:} + base64(nonce ‖ ciphertext
 * ‖ tag). Its {@link #toString()} never shows the key.
 */
public final class MasterKey {
    static final int BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final String PREFIX = "v1:";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private MasterKey(byte[] raw) {
        this.key = new SecretKeySpec(raw, "AES");
        Arrays.fill(raw, (byte) 0);
    }

    /**
     * Reads a master key as configured: base64 of exactly 32 bytes (what {@code openssl rand -base64 32} prints).
     *
     * @throws IllegalArgumentException saying what is wrong, never echoing the value
     */
    public static MasterKey parse(String base64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not base64 (make one with: openssl rand -base64 32)");
        }
        if (raw.length != BYTES) {
            throw new IllegalArgumentException("is " + raw.length + " bytes, not " + BYTES
                    + " (make one with: openssl rand -base64 32)");
        }
        return new MasterKey(raw);
    }

    /** A new random master key. */
    public static MasterKey generate() {
        byte[] raw = new byte[BYTES];
        RANDOM.nextBytes(raw);
        return new MasterKey(raw);
    }

    /** The key as configured (base64), to be written only to a private file. */
    public String encoded() {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    /** Encrypts {@code plaintext}, bound to {@code context} (such as {@code domain/selector}). */
    String seal(byte[] plaintext, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = cipher(Cipher.ENCRYPT_MODE, nonce, context);
            byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + plaintext.length + TAG_BITS / 8);
            c.doFinal(plaintext, 0, plaintext.length, out, NONCE_BYTES);
            return PREFIX + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /**
     * Decrypts what {@link #seal} made for the same {@code context}.
     *
     * @throws WrongKeyException when the text was sealed under another master key, for another context, or altered
     */
    byte[] open(String sealed, String context) {
        if (!sealed.startsWith(PREFIX)) {
            throw new WrongKeyException("not a sealed key (" + PREFIX + "…)");
        }
        byte[] in;
        try {
            in = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new WrongKeyException("the sealed key is not base64");
        }
        if (in.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new WrongKeyException("the sealed key is too short");
        }
        try {
            Cipher c = cipher(Cipher.DECRYPT_MODE, Arrays.copyOf(in, NONCE_BYTES), context);
            return c.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new WrongKeyException("it was sealed under another dkim.master_key, or altered");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    private Cipher cipher(int mode, byte[] nonce, String context) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
        c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
        return c;
    }

    @Override
    public String toString() {
        return "MasterKey[****]";
    }

    /** A sealed private key that this master key cannot open. */
    public static final class WrongKeyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        WrongKeyException(String message) {
            super(message, null, false, false);
        }
    }
}
