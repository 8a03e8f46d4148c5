package io.keyrelay.keys;

/**
 * A request to create or change a key that breaks a rule; {@link #field()} names the offending input
 * ({@code label}, {@code grants}, {@code valid_ips}, {@code subaccount_id}, {@code expires_at}, {@code id}).
 */
public final class KeyValidationException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final boolean conflict;

    public KeyValidationException(String field, String message) {
        this(field, message, false);
    }

    private KeyValidationException(String field, String message, boolean conflict) {
        super(message, null, false, false);
        this.field = field;
        this.conflict = conflict;
    }

    /**
     * A well-formed request the key's state refuses (a revoked key cannot be changed): HTTP 409 rather than 422,
     * CLI exit 1 rather than 2.
     */
    public static KeyValidationException conflict(String field, String message) {
        return new KeyValidationException(field, message, true);
    }

    public boolean isConflict() {
        return conflict;
    }

    public String field() {
        return field;
    }
}
