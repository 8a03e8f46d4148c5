package io.keyrelay.keys;

/** No key has the given id (or it is outside the caller's subaccount). */
public final class KeyNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KeyNotFoundException(String id) {
        super("no API key with id " + id, null, false, false);
    }
}
