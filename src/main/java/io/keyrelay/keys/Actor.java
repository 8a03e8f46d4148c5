package io.keyrelay.keys;

/**
 * Who made a change, as recorded in the audit trail: {@code cli}, {@code system}, or {@code key:<id>} for a
 * change made through the API or console with an admin key.
 */
public record Actor(String name) {
    public static final Actor CLI = new Actor("cli");
    public static final Actor SYSTEM = new Actor("system");

    public static Actor key(ApiKey key) {
        return new Actor("key:" + key.id() + " (" + key.shortKey() + ")");
    }

    @Override
    public String toString() {
        return name;
    }
}
