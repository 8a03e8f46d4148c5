package io.keyrelay.cli;

/** A command failed for a reason the user can act on; printed as one line, exit code 1. */
final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliFailure(String message) {
        super(message, null, false, false);
    }
}
