package io.keyrelay.keys;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Makes new key secrets (40 lowercase hex characters, 160 bits from {@link SecureRandom}, as SparkPost
 * issues them) and key ids (random UUIDs, deliberately unlike a key so the two are never confused).
 */
public final class KeyGenerator {
    /** Length of a key secret in hex characters. */
    public static final int KEY_LENGTH = 40;
    /** How many leading characters of a key are kept as its {@code short_key}. */
    public static final int SHORT_KEY_LENGTH = 4;

    private final SecureRandom random;

    public KeyGenerator() {
        this(new SecureRandom());
    }

    public KeyGenerator(SecureRandom random) {
        this.random = random;
    }

    public String newKey() {
        byte[] bytes = new byte[KEY_LENGTH / 2];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public String newId() {
        return UUID.randomUUID().toString();
    }

    public static String shortKeyOf(String rawKey) {
        return rawKey.substring(0, SHORT_KEY_LENGTH);
    }

    /** True if the text has the shape of a key this relay issues (used to skip hopeless lookups early). */
    public static boolean looksLikeKey(String text) {
        if (text == null || text.length() != KEY_LENGTH) {
            return false;
        }
        for (int i = 0; i < KEY_LENGTH; i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
