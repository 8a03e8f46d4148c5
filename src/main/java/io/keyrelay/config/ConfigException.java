package io.keyrelay.config;

/**
 * A configuration value that cannot be used. The message names the key and the value:
 * {@code smtp.port: 70000 is not a valid port}. The CLI turns it into exit code 2.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message, null, false, false);
        this.key = key;
    }

    /** The dotted key, such as {@code smtp.port}. */
    public String key() {
        return key;
    }
}
