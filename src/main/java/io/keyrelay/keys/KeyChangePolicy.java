package io.keyrelay.keys;

/**
 * A rule an admin surface imposes on the keys it creates and changes, checked by {@link KeyService} on the key as it
 * would be stored, before anything is written. The REST API and the console bound a caller's changes by the
 * caller's own key ({@code admin.KeyRestrictions}); the CLI, an operator on the server, is bound by nothing more
 * than validation ({@link #NONE}).
 */
@FunctionalInterface
public interface KeyChangePolicy {
    /** No rule beyond validation. */
    KeyChangePolicy NONE = (before, after) -> { };

    /**
     * Throws (a runtime exception the surface maps to its own error) if {@code after} may not be stored.
     *
     * @param before the key as it is now, or null when {@code after} is being created
     * @param after the key as it would be stored
     */
    void check(ApiKey before, ApiKey after);

    /** This rule, then {@code next}. */
    default KeyChangePolicy andThen(KeyChangePolicy next) {
        return (before, after) -> {
            check(before, after);
            next.check(before, after);
        };
    }
}
