package io.keyrelay.admin;

/**
 * A refused REST API request: the {@link ApiError} and a description for the caller. Thrown from handlers and
 * turned into SparkPost's error body in one place; like SubEthaSMTP's RejectException it costs no stack trace.
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ApiError error;

    ApiException(ApiError error, String description) {
        super(description, null, false, false);
        this.error = error;
    }

    public ApiError error() {
        return error;
    }

    public String description() {
        return getMessage();
    }
}
