package io.keyrelay.dkim;

/**
 * One address from a {@code From:} or {@code Sender:} field, reduced to what sender policy compares.
 *
 * @param localPart the part before the {@code @}, as written (it may be UTF-8 under SMTPUTF8)
 * @param domain the domain in {@link DomainNames normal form} (lower-case A-labels)
 */
public record Mailbox(String localPart, String domain) {
    /** The address in its normal form, {@code localPart@domain}. */
    public String address() {
        return localPart + "@" + domain;
    }

    @Override
    public String toString() {
        return address();
    }
}
