package io.keyrelay.relay;

/**
 * The downstream could not be reached or broke off mid-conversation: a temporary failure (the client gets
 * {@code 451 4.4.1} and retries). The message is for the log; it never carries a secret.
 */
public final class DownstreamException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String kind;

    /** {@code kind} is a short label for metrics: connect, tls, auth, io, timeout, pool, protocol. */
    public DownstreamException(String kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public String kind() {
        return kind;
    }
}
