package io.keyrelay.admin;

import java.util.List;
import java.util.Map;

/**
 * Every error the REST API returns: its HTTP status, SparkPost's message and SparkPost's extended error code
 * (see SparkPost's "Extended Error Codes"). The body is always SparkPost's shape,
 * {@code {"errors":[{"message":…,"description":…,"code":…}]}}, with a description that names the offending
 * field or header. Every 422 (a request that is well-formed JSON but breaks a rule) carries code 1400.
 */
public enum ApiError {
    UNAUTHORIZED(401, "Unauthorized.", "1100"),
    FORBIDDEN(403, "permission denied", "1100"),
    INVALID_URI(404, "invalid URI", "1101"),
    METHOD_NOT_ALLOWED(405, "invalid HTTP method", "1102"),
    INVALID_PARAMS(400, "invalid params", "1200"),
    INVALID_DATA(422, "invalid data format/type/length", "1400"),
    TOO_LARGE(413, "invalid data format/type/length", "1300"),
    REQUIRED_FIELD(422, "required field is missing", "1400"),
    NOT_FOUND(404, "resource not found", "1600"),
    CONFLICT(409, "resource in use", "1602"),
    UNSUPPORTED_MEDIA_TYPE(415, "Unsupported Content-Type header", "1700"),
    TOO_MANY_FAILURES(429, "too many failed authentication attempts", "1100"),
    UNAVAILABLE(503, "server resources unavailable", "1502"),
    INTERNAL(500, "internal server error", "1500");

    private final int status;
    private final String message;
    private final String code;

    ApiError(int status, String message, String code) {
        this.status = status;
        this.message = message;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String message() {
        return message;
    }

    public String code() {
        return code;
    }

    /** An exception carrying this error, to throw from a handler. */
    public ApiException with(String description) {
        return new ApiException(this, description);
    }

    /** The response body for this error. */
    public Map<String, Object> body(String description) {
        return Map.of("errors", List.of(Map.of("message", message, "description", description, "code", code)));
    }
}
