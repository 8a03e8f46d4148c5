package io.keyrelay.domains;

import io.keyrelay.dkim.DomainNames;
import io.keyrelay.text.LogText;
import java.net.IDN;

/**
 * A domain name in its one stored form: lower-case ASCII, internationalised labels as A-labels
 * ({@code xn--…}, RFC 5890), no trailing dot. {@code bücher.example} and {@code XN--BCHER-KVA.example.} are the
 * same {@code DomainName}; {@link #unicode()} gives the U-label form to show beside it.
 *
 * @param ascii the A-label form, as stored and compared
 */
public record DomainName(String ascii) implements Comparable<DomainName> {
    /** Longest name DNS carries. */
    static final int MAX_LENGTH = DomainNames.MAX_LENGTH;

    public DomainName {
        if (!ascii.equals(normalise(ascii))) {
            throw new IllegalArgumentException(ascii + " is not in normal form");
        }
    }

    /**
     * Parses what a user typed: either form, any case, one trailing dot allowed.
     *
     * @throws DomainException naming {@code domain} for anything that is not a host name of two labels or more
     */
    public static DomainName parse(String text) {
        return new DomainName(normalise(text));
    }

    /**
     * {@link DomainNames#normalize}'s normal form (the one the SMTP path compares {@code From:} domains in), with the
     * rules for a domain one configures on top: a host name (letters, digits and hyphens: no underscore), of two
     * labels or more, not an IP address.
     */
    private static String normalise(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty() || t.equals(".")) {
            throw DomainException.invalid("domain", "domain is required");
        }
        String ascii;
        try {
            ascii = DomainNames.normalize(t);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid("domain", LogText.quote(t) + " is not a domain name: "
                    + e.getMessage().replaceFirst("^not a valid domain name: ", ""));
        }
        if (ascii.indexOf('_') >= 0) {
            throw DomainException.invalid("domain", LogText.quote(t) + " is not a domain name: a host name has"
                    + " letters, digits and hyphens only");
        }
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) {
            throw DomainException.invalid("domain", LogText.quote(t) + " is not a domain name with at least two labels"
                    + " (such as example.com)");
        }
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            throw DomainException.invalid("domain", LogText.quote(t) + " is an address, not a domain name");
        }
        return ascii;
    }

    /** The name with each A-label shown as Unicode ({@code xn--bcher-kva.example} → {@code bücher.example}). */
    public String unicode() {
        return IDN.toUnicode(ascii, IDN.USE_STD3_ASCII_RULES);
    }

    /** True if this name is internationalised (its U-label form differs). */
    public boolean isInternational() {
        return !unicode().equals(ascii);
    }

    @Override
    public int compareTo(DomainName o) {
        return ascii.compareTo(o.ascii);
    }

    @Override
    public String toString() {
        return ascii;
    }
}
