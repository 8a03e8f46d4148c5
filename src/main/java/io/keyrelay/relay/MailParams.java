package io.keyrelay.relay;

/**
 * What the client declared with MAIL FROM: {@code SIZE=} (0 when absent), {@code BODY=} (null, {@code 7BIT} or
 * {@code 8BITMIME}) and {@code SMTPUTF8}. Passed on to the downstream so it sees what the client said.
 */
public record MailParams(long declaredSize, String body, boolean smtpUtf8) {
    public static final MailParams NONE = new MailParams(0, null, false);
}
