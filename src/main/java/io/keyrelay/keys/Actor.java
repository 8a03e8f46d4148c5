package io.keyrelay.keys;

/**
 * Who made a change, as recorded in the audit trail: {@code cli:<user>} (the command line, with the operating
 * system user who ran it), {@code system}, or {@code key:<id> (<short key>)} for a change made through the API or
 * console with an admin key, with the address the request came from ({@code clientAddress}, null for the CLI).
 */
public record Actor(String name, String clientAddress) {
    public static final Actor CLI = new Actor("cli");
    public static final Actor SYSTEM = new Actor("system");

    /** The command line run by {@code osUser} (null or blank: unknown). */
    public static Actor cli(String osUser) {
        if (osUser == null || osUser.isBlank()) {
            return CLI;
        }
        StringBuilder b = new StringBuilder("cli:");
        osUser.strip().chars().limit(64)
                .forEach(c -> b.append(c > 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char) c : '?'));
        return new Actor(b.toString());
    }

    /** An actor with no client address (the CLI, the relay itself). */
    public Actor(String name) {
        this(name, null);
    }

    public static Actor key(ApiKey key) {
        return new Actor("key:" + key.id() + " (" + key.shortKey() + ")");
    }

    /** {@code key} acting through a request from {@code client} (the API, the console). */
    public static Actor key(ApiKey key, java.net.InetAddress client) {
        return new Actor(key(key).name(), client == null ? null : client.getHostAddress());
    }

    @Override
    public String toString() {
        return name;
    }
}
