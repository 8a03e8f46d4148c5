package io.keyrelay.domains;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A domain the relay may send as (SparkPost's sending domain): owned by the primary account ({@code subaccountId}
 * null) or by one subaccount; a primary-account domain can be {@code sharedWithSubaccounts}. Its DKIM status is
 * that of its active RSA key (its Ed25519 key, if it has only that); {@code ownershipVerified} is set once a DKIM
 * record of it verified, and cleared when DNS says with authority that the record is gone or changed.
 *
 * @param keys every DKIM key, active and pending (none when it was created without DKIM)
 */
public record SendingDomain(DomainName name, Long subaccountId, boolean sharedWithSubaccounts,
        boolean ownershipVerified, Instant createdAt, Instant updatedAt, List<DkimKey> keys) {

    public SendingDomain {
        Objects.requireNonNull(name, "name");
        keys = List.copyOf(keys);
    }

    /** The active key of {@code algorithm}, if any. */
    public Optional<DkimKey> active(DkimAlgorithm algorithm) {
        return keys.stream().filter(k -> k.algorithm() == algorithm && k.state() == DkimKey.State.ACTIVE).findFirst();
    }

    /** The key that stands for the domain in SparkPost's single {@code dkim} object: the active RSA key, else Ed25519. */
    public Optional<DkimKey> primaryKey() {
        return active(DkimAlgorithm.RSA).or(() -> active(DkimAlgorithm.ED25519));
    }

    public List<DkimKey> pending() {
        return keys.stream().filter(k -> k.state() == DkimKey.State.PENDING).toList();
    }

    public DkimStatus dkimStatus() {
        return primaryKey().map(DkimKey::status).orElse(DkimStatus.UNVERIFIED);
    }

    /** When DNS was last asked about any of its records (null: never). */
    public Instant lastCheckedAt() {
        return keys.stream().map(DkimKey::lastCheckedAt).filter(Objects::nonNull).max(Comparator.naturalOrder())
                .orElse(null);
    }

    /**
     * True if a key of {@code subaccount} (null: the primary account) may send as this domain: it is the account's
     * own, or the primary account's and shared with subaccounts.
     */
    public boolean usableBy(Long subaccount) {
        return Objects.equals(subaccountId, subaccount) || (subaccountId == null && sharedWithSubaccounts);
    }

    SendingDomain with(boolean shared, boolean verified, Instant updated, List<DkimKey> newKeys) {
        return new SendingDomain(name, subaccountId, shared, verified, createdAt, updated, newKeys);
    }
}
