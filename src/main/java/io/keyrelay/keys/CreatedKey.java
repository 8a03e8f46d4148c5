package io.keyrelay.keys;

/**
 * The result of creating a key: the stored record and the raw secret. This is the only object that ever holds
 * the secret; it is handed to the creator once and not kept anywhere.
 */
public record CreatedKey(ApiKey key, String secret) {
    @Override
    public String toString() {
        return "CreatedKey[" + key + ", secret=****]";
    }
}
