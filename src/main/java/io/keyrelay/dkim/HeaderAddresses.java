package io.keyrelay.dkim;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a message's {@link Authors} from its header block with Angus Mail's RFC 822 address parser
 * ({@link InternetAddress#parseHeader}, strict): folded lines, comments, quoted and encoded-word display names
 * and groups are its business; this class unfolds the field, expands groups, drops source routes, and brings each
 * domain to the {@link DomainNames normal form}.
 *
 * <p>Refused as unreadable: no {@code From:}, more than one (RFC 5322 section 3.6 allows exactly one), one the
 * parser rejects or that names no mailbox (an empty group), a domain that is not a domain name, and — without
 * SMTPUTF8 — an address with non-ASCII characters (RFC 6531 allows them only in an SMTPUTF8 transaction). The same
 * rules hold for {@code Sender:}, which may hold one mailbox. A header block over its bound is unreadable too:
 * the fields past the bound could hold another {@code From:}.
 *
 * <p>The reasons quote none of the message's text (they may end up in an SMTP reply, which must be ASCII).
 */
public final class HeaderAddresses {
    private HeaderAddresses() {}

    /**
     * The authors of a message.
     *
     * @param smtpUtf8 whether the transaction is SMTPUTF8 (MAIL FROM ... SMTPUTF8), which allows UTF-8 addresses
     */
    public static Authors read(HeaderBlock headers, boolean smtpUtf8) {
        if (headers.truncated()) {
            return new Authors.Unreadable("From", "the header block is too large to be read");
        }
        List<HeaderField> from = headers.all("From");
        if (from.isEmpty()) {
            return new Authors.Unreadable("From", "the message has no From: header");
        }
        if (from.size() > 1) {
            return new Authors.Unreadable("From", "the message has more than one From: header");
        }
        List<Mailbox> fromBoxes;
        try {
            fromBoxes = mailboxes(from.get(0), smtpUtf8);
        } catch (Unparseable e) {
            return new Authors.Unreadable("From", "the From: header cannot be parsed: " + e.getMessage());
        }
        if (fromBoxes.isEmpty()) {
            return new Authors.Unreadable("From", "the From: header names no address");
        }
        List<HeaderField> sender = headers.all("Sender");
        if (sender.isEmpty()) {
            return new Authors.Found(fromBoxes, null);
        }
        if (sender.size() > 1) {
            return new Authors.Unreadable("Sender", "the message has more than one Sender: header");
        }
        List<Mailbox> senderBoxes;
        try {
            senderBoxes = mailboxes(sender.get(0), smtpUtf8);
        } catch (Unparseable e) {
            return new Authors.Unreadable("Sender", "the Sender: header cannot be parsed: " + e.getMessage());
        }
        if (senderBoxes.size() != 1) {
            return new Authors.Unreadable("Sender", "the Sender: header must name exactly one address");
        }
        return new Authors.Found(fromBoxes, senderBoxes.get(0));
    }

    private static List<Mailbox> mailboxes(HeaderField field, boolean smtpUtf8) throws Unparseable {
        String value = field.value();
        if (value.indexOf('\uFFFD') >= 0) {
            throw new Unparseable("it is not valid UTF-8");
        }
        InternetAddress[] parsed;
        try {
            parsed = InternetAddress.parseHeader(value, true);
        } catch (AddressException e) {
            throw new Unparseable(e.getMessage());
        }
        List<Mailbox> out = new ArrayList<>();
        for (InternetAddress a : parsed) {
            if (a.isGroup()) {
                try {
                    for (InternetAddress member : a.getGroup(true)) {
                        out.add(mailbox(member.getAddress(), smtpUtf8));
                    }
                } catch (AddressException e) {
                    throw new Unparseable(e.getMessage());
                }
            } else {
                out.add(mailbox(a.getAddress(), smtpUtf8));
            }
        }
        return out;
    }

    private static Mailbox mailbox(String address, boolean smtpUtf8) throws Unparseable {
        String a = address;
        if (a.startsWith("@") && a.indexOf(':') > 0) {
            a = a.substring(a.indexOf(':') + 1); // obsolete source route (RFC 5322 section 4.4): not the mailbox
        }
        int at = a.lastIndexOf('@');
        if (at <= 0 || at == a.length() - 1) {
            throw new Unparseable("an address has no domain");
        }
        if (!smtpUtf8 && !a.chars().allMatch(c -> c < 0x80)) {
            throw new Unparseable("a non-ASCII address needs SMTPUTF8");
        }
        String domain = a.substring(at + 1);
        if (domain.startsWith("[")) {
            throw new Unparseable("an address literal is not a domain");
        }
        try {
            return new Mailbox(a.substring(0, at), DomainNames.normalize(domain));
        } catch (IllegalArgumentException e) {
            throw new Unparseable("a domain is not valid: " + e.getMessage());
        }
    }

    /** Why one field could not be read; cheap (no stack trace), caught within this class. */
    private static final class Unparseable extends Exception {
        private static final long serialVersionUID = 1L;

        Unparseable(String message) {
            super(message, null, false, false);
        }
    }
}
