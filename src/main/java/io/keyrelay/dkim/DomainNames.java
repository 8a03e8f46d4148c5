package io.keyrelay.dkim;

import java.net.IDN;
import java.util.Locale;

/**
 * The one normal form in which keyrelay compares domains: lower-case A-labels ({@code xn--bcher-kva.de} for
 * {@code bücher.de}, RFC 5890), via {@link IDN#toASCII}, with a trailing root dot removed. A sending domain
 * ({@code domains.DomainName}, which adds the rules for configuring one), a {@code From:} domain and a DKIM
 * {@code d=} tag all go through it, so a U-label and its A-label are the same domain everywhere.
 */
public final class DomainNames {
    /** Longest name DNS carries (RFC 1035 section 2.3.4, without the root's length octet and trailing dot). */
    public static final int MAX_LENGTH = 253;

    /**
     * Names already put in normal form, by what was written: every message's {@code From:} (and sender) domain goes
     * through here two or three times, and IDN processing was ~10 % of keyrelay's CPU for a message under the
     * sending-domain policy (profile D, JFR). Bounded; only names that are valid are kept.
     */
    private static final com.github.benmanes.caffeine.cache.Cache<String, String> NORMALISED =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000).build();

    private DomainNames() {}

    /**
     * The normal form of {@code domain}.
     *
     * @throws IllegalArgumentException if it is not a domain name (empty, a bad label, too long), with a message
     *     that says why
     */
    public static String normalize(String domain) {
        String known = NORMALISED.getIfPresent(domain);
        if (known != null) {
            return known;
        }
        String ascii = compute(domain);
        NORMALISED.put(domain, ascii);
        return ascii;
    }

    private static String compute(String domain) {
        String d = domain.strip();
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.isEmpty()) {
            throw new IllegalArgumentException("empty domain");
        }
        String ascii;
        try {
            ascii = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a valid domain name: " + e.getMessage(), e);
        }
        ascii = ascii.toLowerCase(Locale.ROOT);
        if (ascii.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("not a valid domain name: longer than " + MAX_LENGTH + " characters");
        }
        if (ascii.isEmpty() || ascii.startsWith(".") || ascii.endsWith(".") || ascii.contains("..")) {
            throw new IllegalArgumentException("not a valid domain name: an empty label");
        }
        for (String label : (d + "." + ascii).split("\\.")) { // the U-labels as written, and the A-labels
            if (label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                throw new IllegalArgumentException("not a valid domain name: a label is longer than 63 characters,"
                        + " or starts or ends with a hyphen");
            }
        }
        for (int i = 0; i < ascii.length(); i++) {
            char c = ascii.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
                throw new IllegalArgumentException("not a valid domain name: it has a character other than"
                        + " letters, digits and hyphens");
            }
        }
        return ascii;
    }
}
