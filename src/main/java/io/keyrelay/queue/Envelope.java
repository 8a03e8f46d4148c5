package io.keyrelay.queue;

import io.keyrelay.relay.MailParams;
import java.util.List;

/**
 * What a message is to be delivered as: the sender ({@code ""} for the null reverse-path), the ESMTP parameters of
 * MAIL FROM, the DSN parameters (RFC 3461: {@code RET}, {@code ENVID}; null when absent), and the recipients.
 */
public record Envelope(String sender, MailParams params, String dsnRet, String dsnEnvid, List<Recipient> recipients) {
    public Envelope {
        recipients = List.copyOf(recipients);
    }

    /** One RCPT TO, with its DSN parameters ({@code NOTIFY}, {@code ORCPT}; null when absent). */
    public record Recipient(String address, String dsnNotify, String dsnOrcpt) {
        public Recipient(String address) {
            this(address, null, null);
        }
    }
}
