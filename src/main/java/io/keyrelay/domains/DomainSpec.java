package io.keyrelay.domains;

/**
 * A sending domain to create, as SparkPost's {@code POST /api/v1/sending-domains} asks for it.
 *
 * @param domain what the caller typed, in either IDN form
 * @param subaccountId the owner; null for the primary account
 * @param generateDkim whether to make an RSA key pair (SparkPost's {@code generate_dkim}, default true)
 * @param dkimKeyLength the RSA modulus length, 1024 or 2048
 * @param ed25519 whether to make an Ed25519 key pair too (RFC 8463), so messages carry both signatures
 * @param dkim a key the owner brings (SparkPost's {@code dkim} object), or null; when given no key is made, and
 *     {@code generateDkim} and {@code dkimKeyLength} do not apply
 */
public record DomainSpec(String domain, Long subaccountId, boolean sharedWithSubaccounts, boolean generateDkim,
        int dkimKeyLength, boolean ed25519, DkimImport dkim) {
    public static final int DEFAULT_KEY_LENGTH = 2048;

    /** A domain whose DKIM key, if any, keyrelay makes. */
    public DomainSpec(String domain, Long subaccountId, boolean sharedWithSubaccounts, boolean generateDkim,
            int dkimKeyLength, boolean ed25519) {
        this(domain, subaccountId, sharedWithSubaccounts, generateDkim, dkimKeyLength, ed25519, null);
    }

    /** A primary-account domain with an RSA-2048 key and nothing else. */
    public static DomainSpec of(String domain) {
        return new DomainSpec(domain, null, false, true, DEFAULT_KEY_LENGTH, false);
    }
}
