package io.keyrelay.dkim;

/**
 * A message could not be signed: its header block was over its bound, or a key could not make a signature (a
 * broken or unsupported key). The message is intact; the caller decides whether to refuse it temporarily.
 */
public final class DkimException extends Exception {
    private static final long serialVersionUID = 1L;

    DkimException(String message, Throwable cause) {
        super(message, cause);
    }
}
