package io.keyrelay.domains;

import io.keyrelay.dkim.SigningAlgorithm;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;

/**
 * Makes DKIM key pairs and opens their private halves: the one place that holds the {@link MasterKey}. New keys get
 * a selector {@code kr<yyyymmdd><4 hex>} (RSA) or the same with {@code e} after it (Ed25519), so a rotation never
 * reuses a published name. Without a master key nothing can be sealed or opened, and the error names
 * {@code dkim.master_key}.
 */
public final class DkimKeyring {
    public static final String MASTER_KEY_SETTING = "dkim.master_key";
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd");

    private final MasterKey master;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    /** {@code master} may be null: then domains can be created without DKIM only. */
    public DkimKeyring(MasterKey master, Clock clock) {
        this.master = master;
        this.clock = clock;
    }

    public boolean configured() {
        return master != null;
    }

    /** A new selector not in {@code taken}, for an RSA key and, with the same stem, its Ed25519 twin. */
    String newSelector(Set<String> taken) {
        String day = LocalDate.now(clock.withZone(ZoneOffset.UTC)).format(DAY);
        while (true) {
            byte[] b = new byte[2];
            random.nextBytes(b);
            String s = "kr" + day + HexFormat.of().formatHex(b);
            if (!taken.contains(s) && !taken.contains(s + "e")) {
                return s;
            }
        }
    }

    /** A new active-or-pending key of {@code algorithm} for {@code domain}, its private half sealed. */
    DkimKey generate(DomainName domain, String selector, DkimAlgorithm algorithm, int bits, DkimKey.State state) {
        requireMaster();
        SigningAlgorithm signing = algorithm.signing();
        KeyPair pair = signing.generateKeyPair(algorithm == DkimAlgorithm.RSA ? bits : 0);
        byte[] pkcs8 = pair.getPrivate().getEncoded();
        String sealed;
        try {
            sealed = master.seal(pkcs8, DkimKey.context(domain, selector));
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
        return new DkimKey(domain, selector, algorithm, algorithm == DkimAlgorithm.RSA ? bits : 256,
                signing.publicKeyValue(pair.getPublic()), sealed, state, DkimStatus.UNVERIFIED, null,
                clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    /** The owner's own RSA key, checked already ({@link DkimImport#check}), its private half sealed like a made one. */
    DkimKey importKey(DomainName domain, DkimImport.Checked key, DkimKey.State state) {
        requireMaster();
        byte[] pkcs8 = key.privateKey().getEncoded();
        String sealed;
        try {
            sealed = master.seal(pkcs8, DkimKey.context(domain, key.selector()));
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
        return new DkimKey(domain, key.selector(), DkimAlgorithm.RSA, key.bits(), key.publicKey(), sealed, state,
                DkimStatus.UNVERIFIED, null, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    /**
     * The private key to sign with.
     *
     * @throws MasterKey.WrongKeyException when it was sealed under another master key
     */
    public PrivateKey privateKey(DkimKey key) {
        requireMaster();
        byte[] pkcs8 = master.open(key.sealedPrivateKey(), DkimKey.context(key.domain(), key.selector()));
        try {
            return key.algorithm().signing().privateKey(pkcs8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the DKIM key of " + key.recordName() + " cannot be read", e);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private void requireMaster() {
        if (master == null) {
            throw new DomainException(DomainException.Kind.NOT_CONFIGURED, MASTER_KEY_SETTING, MASTER_KEY_SETTING
                    + " is not set: DKIM private keys cannot be stored or used without it (make one with:"
                    + " openssl rand -base64 32)");
        }
    }
}
