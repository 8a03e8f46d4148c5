package io.keyrelay.relay;

/**
 * What the client declared with MAIL FROM: {@code SIZE=} (0 when absent), {@code BODY=} (null, {@code 7BIT} or
 * {@code 8BITMIME}), {@code SMTPUTF8}, and the DSN parameters of RFC 3461 — {@code RET=} ({@code FULL} or
 * {@code HDRS}) and {@code ENVID=} (as xtext), each null when absent. Passed on to the downstream so it sees what
 * the client said (RET and ENVID only to a downstream that offers DSN).
 */
public record MailParams(long declaredSize, String body, boolean smtpUtf8, String ret, String envid) {
    public static final MailParams NONE = new MailParams(0, null, false, null, null);

    /** Without DSN parameters. */
    public MailParams(long declaredSize, String body, boolean smtpUtf8) {
        this(declaredSize, body, smtpUtf8, null, null);
    }
}
