package io.keyrelay.relay;

/**
 * The DSN parameters of one RCPT TO (RFC 3461 section 4): {@code NOTIFY=} as {@code notifyOn} ({@code NEVER}, or a comma-separated
 * list of {@code SUCCESS}, {@code FAILURE}, {@code DELAY}) and {@code ORCPT=} ({@code addr-type;xtext}), each null
 * when absent. Passed on to a downstream that offers DSN.
 */
public record RcptParams(String notifyOn, String orcpt) {
    public static final RcptParams NONE = new RcptParams(null, null);

    /** The parameters as they follow {@code RCPT TO:<…>} on the wire: {@code " NOTIFY=… ORCPT=…"}, or empty. */
    public String wire() {
        return (notifyOn == null ? "" : " NOTIFY=" + notifyOn) + (orcpt == null ? "" : " ORCPT=" + orcpt);
    }
}
