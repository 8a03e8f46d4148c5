package io.keyrelay.domains;

import io.keyrelay.dkim.RsaKeyText;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A DKIM key the domain's owner brings instead of one keyrelay makes: SparkPost's {@code dkim} object of
 * {@code POST /api/v1/sending-domains} ({@code private}, {@code public}, {@code selector}). Only RSA keys of
 * {@value #MIN_BITS} to {@value #MAX_BITS} bits are taken. {@link #toString()} never shows the private key.
 *
 * @param selector the selector its record is published under ({@code <selector>._domainkey.<domain>})
 * @param privateKey the private key as text: PEM or base64, PKCS#8 or PKCS#1
 * @param publicKey the public key as text (PEM or base64), or null to derive it from the private one; when given it
 *     must be the private key's public half
 */
public record DkimImport(String selector, String privateKey, String publicKey) {
    static final int MIN_BITS = 1024;
    /** RFC 8301 §3.2: verifiers must take keys up to 4096 bits; larger ones would not fit the store's column either. */
    static final int MAX_BITS = 4096;
    /** RFC 6376 §3.1: a selector is a sub-domain (RFC 5321 §4.1.2): labels of letters, digits and inner hyphens. */
    private static final Pattern SELECTOR = Pattern.compile(
            "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*");
    /** The store's selector column. */
    private static final int MAX_SELECTOR = 63;

    /** The checked key: its private half, its public half as a record's {@code p=} (base64 SPKI), its length. */
    record Checked(String selector, RSAPrivateKey privateKey, String publicKey, int bits) {
        @Override
        public String toString() {
            return "DkimImport.Checked[" + selector + " rsa-" + bits + " private=(hidden)]";
        }
    }

    /**
     * Checks the import for {@code domain}: the selector's syntax, that the private key parses as RSA of an
     * accepted length, and that the public key, when given, is its public half.
     *
     * @throws DomainException {@code INVALID}, naming {@code dkim.selector}, {@code dkim.private} or
     *     {@code dkim.public}
     */
    Checked check(DomainName domain) {
        if (selector == null || selector.isBlank()) {
            throw DomainException.invalid("dkim.selector", "dkim.selector: is required with dkim.private");
        }
        String s = selector.strip();
        if (!SELECTOR.matcher(s).matches() || s.length() > MAX_SELECTOR) {
            throw DomainException.invalid("dkim.selector", "dkim.selector: " + io.keyrelay.text.LogText.quote(s)
                    + " is not a selector: labels of letters, digits and inner hyphens, separated by dots, at most "
                    + MAX_SELECTOR + " characters (RFC 6376 section 3.1)");
        }
        if ((s + "._domainkey." + domain.ascii()).length() > DomainName.MAX_LENGTH) {
            throw DomainException.invalid("dkim.selector", "dkim.selector: " + s + "._domainkey." + domain.ascii()
                    + " is longer than " + DomainName.MAX_LENGTH + " characters");
        }
        if (privateKey == null || privateKey.isBlank()) {
            throw DomainException.invalid("dkim.private", "dkim.private: is required (keyrelay signs with it)");
        }
        RSAPrivateKey priv;
        try {
            priv = RsaKeyText.privateKey(privateKey);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid("dkim.private", "dkim.private: " + e.getMessage());
        }
        int bits = RsaKeyText.bits(priv);
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw DomainException.invalid("dkim.private", "dkim.private: an RSA key of " + bits + " bits; DKIM keys"
                    + " must have " + MIN_BITS + " to " + MAX_BITS + " bits (RFC 8301 section 3.2)");
        }
        RSAPublicKey pub;
        if (publicKey == null || publicKey.isBlank()) {
            try {
                pub = RsaKeyText.publicHalf(priv);
            } catch (IllegalArgumentException e) {
                throw DomainException.invalid("dkim.private", "dkim.private: " + e.getMessage() + " (dkim.public)");
            }
        } else {
            try {
                pub = RsaKeyText.publicKey(publicKey);
            } catch (IllegalArgumentException e) {
                throw DomainException.invalid("dkim.public", "dkim.public: " + e.getMessage());
            }
        }
        if (!RsaKeyText.matches(priv, pub)) {
            throw DomainException.invalid("dkim.public", "dkim.public: is not the public half of dkim.private");
        }
        return new Checked(s, priv, Base64.getEncoder().encodeToString(pub.getEncoded()), bits);
    }

    @Override
    public String toString() {
        return "DkimImport[" + selector + " private=(hidden)]";
    }
}
