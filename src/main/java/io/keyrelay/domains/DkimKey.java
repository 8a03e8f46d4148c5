package io.keyrelay.domains;

import java.time.Instant;

/**
 * One DKIM key of a sending domain: the selector it is published under, its public half (base64, as in the
 * record's {@code p=}) and its private half sealed under the {@link MasterKey} — never in clear outside
 * {@link DkimKeyring}. A domain has an {@link State#ACTIVE} key per algorithm, and during a rotation a
 * {@link State#PENDING} one that replaces it once its own record verifies.
 *
 * @param bits the RSA modulus length (1024 or 2048); 256 for Ed25519
 * @param sealedPrivateKey the PKCS#8 private key sealed by {@link MasterKey#seal}
 * @param lastCheckedAt when DNS was last asked about this key's record (null: never)
 */
public record DkimKey(DomainName domain, String selector, DkimAlgorithm algorithm, int bits, String publicKey,
        String sealedPrivateKey, State state, DkimStatus status, Instant lastCheckedAt, Instant createdAt) {

    /** Whether a key signs (active) or waits for its record to verify before it replaces the active one (pending). */
    public enum State { ACTIVE, PENDING }

    /** The DNS name its TXT record is published at: {@code <selector>._domainkey.<domain>}. */
    public String recordName() {
        return selector + "._domainkey." + domain.ascii();
    }

    /** The TXT record's text (RFC 6376 §3.6.1): {@code v=DKIM1; k=rsa; h=sha256; p=…}. */
    public String recordValue() {
        return algorithm == DkimAlgorithm.RSA
                ? "v=DKIM1; k=rsa; h=sha256; p=" + publicKey
                : "v=DKIM1; k=ed25519; p=" + publicKey;
    }

    /** The sealing context: a sealed key opens only for the domain and selector it was made for. */
    static String context(DomainName domain, String selector) {
        return domain.ascii() + "/" + selector;
    }

    DkimKey withStatus(DkimStatus s, Instant checkedAt) {
        return new DkimKey(domain, selector, algorithm, bits, publicKey, sealedPrivateKey, state, s, checkedAt,
                createdAt);
    }

    DkimKey withState(State s) {
        return new DkimKey(domain, selector, algorithm, bits, publicKey, sealedPrivateKey, s, status, lastCheckedAt,
                createdAt);
    }

    @Override
    public String toString() {
        return "DkimKey[" + recordName() + " " + algorithm.keyType() + " " + state + " " + status + "]";
    }
}
