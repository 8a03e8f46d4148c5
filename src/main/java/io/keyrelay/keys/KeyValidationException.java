package io.keyrelay.keys;

/**
 * A request to create or change a key that breaks a rule; {@link #field()} names the offending input
 * ({@code label}, {@code grants}, {@code valid_ips}, {@code subaccount_id}, {@code expires_at}, {@code id}).
 */
public final class KeyValidationException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String field;

    public KeyValidationException(String field, String message) {
        super(message, null, false, false);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
