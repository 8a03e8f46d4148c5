package io.keyrelay.relay;

/**
 * An SMTP reply from the downstream: its code and text (the lines of a multi-line reply joined with {@code "; "}).
 */
public record Reply(int code, String text) {
    public boolean isPositive() {
        return code >= 200 && code < 400;
    }

    public boolean isTransient() {
        return code >= 400 && code < 500;
    }

    public boolean isPermanent() {
        return code >= 500;
    }

    /** The reply as one line, {@code "250 2.0.0 Ok: queued as X"}. */
    public String line() {
        return code + " " + text;
    }

    @Override
    public String toString() {
        return line();
    }
}
