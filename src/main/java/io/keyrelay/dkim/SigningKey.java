package io.keyrelay.dkim;

import java.security.PrivateKey;
import java.util.Objects;

/**
 * One signing key of a sending domain: what a {@code DKIM-Signature} field names ({@code d=}, {@code s=},
 * {@code a=}) and the private key that makes it. {@link #toString()} never shows the key.
 *
 * @param domain the signing domain ({@code d=}), normalised to lower-case A-labels
 * @param selector the selector ({@code s=}): the key record is at {@code <selector>._domainkey.<domain>}
 * @param privateKey an RSA or Ed25519 private key; its type decides the algorithm
 */
public record SigningKey(String domain, String selector, PrivateKey privateKey) {
    public SigningKey {
        domain = DomainNames.normalize(domain);
        Objects.requireNonNull(privateKey, "privateKey");
        if (selector == null || !selector.matches("[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
                + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*")) {
            throw new IllegalArgumentException("selector: '" + selector + "' is not a DNS label sequence");
        }
        SigningAlgorithm.of(privateKey); // an unsupported key type fails here, not at the first message
    }

    /** The algorithm this key signs with. */
    public SigningAlgorithm algorithm() {
        return SigningAlgorithm.of(privateKey);
    }

    @Override
    public String toString() {
        return "SigningKey[" + algorithm().tag() + " d=" + domain + " s=" + selector + " key=(hidden)]";
    }
}
