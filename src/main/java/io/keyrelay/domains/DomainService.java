package io.keyrelay.domains;

import io.keyrelay.keys.Actor;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.store.StoreException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, lists, changes and deletes sending domains: the one door every admin surface (CLI, REST API, console)
 * goes through. It validates requests, makes the DKIM keys, writes the audit trail in the same transaction as the
 * change, and tells listeners (the SMTP path's cache) about each change once it is committed.
 */
public final class DomainService {
    private static final Logger log = LoggerFactory.getLogger(DomainService.class);
    public static final String CREATED = "domain.created";
    public static final String UPDATED = "domain.updated";
    public static final String DELETED = "domain.deleted";
    public static final String CHECKED = "domain.checked";
    public static final String ROTATED = "domain.dkim_rotated";
    static final Set<Integer> KEY_LENGTHS = Set.of(1024, 2048);

    private final JdbcDomainStore store;
    private final DkimKeyring keyring;
    private final Clock clock;
    private final DomainVerifier verifier;
    private final List<Consumer<DomainName>> listeners = new CopyOnWriteArrayList<>();

    /** A service whose {@link #verify} asks {@code dns}. */
    public DomainService(JdbcDomainStore store, DkimKeyring keyring, DnsTxtLookup dns, Clock clock) {
        this.store = store;
        this.keyring = keyring;
        this.clock = clock;
        this.verifier = new DomainVerifier(this, dns);
    }

    /** Registers a callback told the name of every domain this service changes, after the change is committed. */
    public void onChange(Consumer<DomainName> listener) {
        listeners.add(listener);
    }

    public SendingDomain create(DomainSpec spec, Actor actor) {
        DomainName name = DomainName.parse(spec.domain());
        if (spec.subaccountId() != null && spec.subaccountId() < 0) {
            throw DomainException.invalid("subaccount_id", "subaccount_id " + spec.subaccountId() + " is negative");
        }
        if (spec.sharedWithSubaccounts() && spec.subaccountId() != null) {
            throw DomainException.invalid("shared_with_subaccounts", "shared_with_subaccounts: only a domain of the"
                    + " primary account can be shared; this one belongs to subaccount " + spec.subaccountId());
        }
        DkimImport.Checked imported = null;
        if (spec.dkim() != null) {
            if (spec.ed25519()) {
                throw DomainException.invalid("ed25519", "ed25519: keyrelay makes an Ed25519 key only beside an RSA"
                        + " key it makes itself, not beside an imported one (dkim)");
            }
            imported = spec.dkim().check(name);
        } else if (!KEY_LENGTHS.contains(spec.dkimKeyLength())) {
            throw DomainException.invalid("dkim_key_length", "dkim_key_length: " + spec.dkimKeyLength()
                    + " is not 1024 or 2048");
        }
        if (spec.ed25519() && !spec.generateDkim()) {
            throw DomainException.invalid("ed25519", "ed25519: an Ed25519 key is made beside the RSA key;"
                    + " it needs generate_dkim");
        }
        if (store.find(name).isPresent()) {
            throw conflict(name);
        }
        Instant now = now();
        List<DkimKey> keys = new ArrayList<>();
        if (imported != null) {
            keys.add(keyring.importKey(name, imported, DkimKey.State.ACTIVE));
        } else if (spec.generateDkim()) {
            String selector = keyring.newSelector(Set.of());
            keys.add(keyring.generate(name, selector, DkimAlgorithm.RSA, spec.dkimKeyLength(), DkimKey.State.ACTIVE));
            if (spec.ed25519()) {
                keys.add(keyring.generate(name, selector + "e", DkimAlgorithm.ED25519, 256, DkimKey.State.ACTIVE));
            }
        }
        SendingDomain d = new SendingDomain(name, spec.subaccountId(), spec.sharedWithSubaccounts(), false, now, now,
                keys);
        try {
            store.insert(d, event(now, actor, CREATED, name, describe(d) + (imported == null ? "" : " imported")));
        } catch (StoreException e) {
            if (e.isDuplicate()) {
                throw conflict(name); // created at the same moment by another caller
            }
            throw e;
        }
        log.info("sending domain created: domain={} subaccount={} shared={} dkim={}{} by {}", name,
                d.subaccountId(), d.sharedWithSubaccounts(), keysText(d), imported == null ? "" : " (imported)", actor);
        fire(name);
        return d;
    }

    /** Every domain. */
    public List<SendingDomain> list() {
        return store.list();
    }

    /**
     * The domains of one account: the primary account's own ({@code subaccount} null), or a subaccount's own and,
     * with {@code withShared}, the primary account's shared ones.
     */
    public List<SendingDomain> list(Long subaccount, boolean withShared) {
        return store.list(subaccount, withShared);
    }

    /**
     * The domain {@code text} names, in either IDN form.
     *
     * @throws DomainException {@code NOT_FOUND} when none is configured
     */
    public SendingDomain get(String text) {
        DomainName name = DomainName.parse(text);
        return store.find(name).orElseThrow(() -> DomainException.notFound(name.ascii()));
    }

    /** Changes whether a primary-account domain is shared with subaccounts. */
    public SendingDomain update(DomainName name, boolean shared, Actor actor) {
        SendingDomain old = store.find(name).orElseThrow(() -> DomainException.notFound(name.ascii()));
        if (shared && old.subaccountId() != null) {
            throw DomainException.invalid("shared_with_subaccounts", "shared_with_subaccounts: only a domain of the"
                    + " primary account can be shared; this one belongs to subaccount " + old.subaccountId());
        }
        if (old.sharedWithSubaccounts() == shared) {
            return old;
        }
        Instant now = now();
        SendingDomain d = old.with(shared, old.ownershipVerified(), now, old.keys());
        String diff = "shared_with_subaccounts: " + old.sharedWithSubaccounts() + " -> " + shared;
        store.update(d, event(now, actor, UPDATED, name, diff));
        log.info("sending domain updated: domain={} {} by {}", name, diff, actor);
        fire(name);
        return d;
    }

    /** Deletes a domain and its DKIM keys; mail from it is refused from now on (where sending domains are required). */
    public void delete(DomainName name, Actor actor) {
        if (!store.delete(name, event(now(), actor, DELETED, name, null))) {
            throw DomainException.notFound(name.ascii());
        }
        log.info("sending domain deleted: domain={} by {}", name, actor);
        fire(name);
    }

    /**
     * Starts a DKIM key rotation: a new key of each algorithm the domain signs with, under a new selector, made
     * {@code pending} — the active keys go on signing (and their records must stay published) until the new
     * record verifies, when the new key replaces the old ({@link DomainVerifier}). A rotation under way is
     * replaced by the new one. A domain without DKIM keys gets an active RSA key at once.
     *
     * @param keyLength the new RSA key's length; null: the active RSA key's (2048 if none)
     */
    public SendingDomain rotate(DomainName name, Integer keyLength, Actor actor) {
        return rotate(name, keyLength, null, actor);
    }

    /**
     * {@link #rotate(DomainName, Integer, Actor)}, to the owner's own RSA key when {@code imported} is given: it
     * becomes the pending (or, without an active RSA key, the active) RSA key under its own selector, which must
     * not be one of the domain's already; an Ed25519 key goes on as it is.
     */
    public SendingDomain rotate(DomainName name, Integer keyLength, DkimImport imported, Actor actor) {
        SendingDomain old = store.find(name).orElseThrow(() -> DomainException.notFound(name.ascii()));
        if (keyLength != null && !KEY_LENGTHS.contains(keyLength)) {
            throw DomainException.invalid("dkim_key_length", "dkim_key_length: " + keyLength + " is not 1024 or 2048");
        }
        Set<String> taken = old.keys().stream().map(DkimKey::selector).collect(Collectors.toSet());
        DkimImport.Checked own = imported == null ? null : imported.check(name);
        if (own != null && taken.stream().anyMatch(t -> t.equalsIgnoreCase(own.selector()))) {
            throw DomainException.invalid("dkim.selector", "dkim.selector: " + own.selector() + " is the selector of"
                    + " one of this domain's keys already; a rotation needs a new one");
        }
        String stem = keyring.newSelector(taken);
        List<DkimKey> keys = new ArrayList<>(old.keys().stream().filter(k -> k.state() == DkimKey.State.ACTIVE)
                .toList());
        List<DkimKey> made = new ArrayList<>();
        var rsa = old.active(DkimAlgorithm.RSA);
        var ed = old.active(DkimAlgorithm.ED25519);
        DkimKey.State rsaState = rsa.isPresent() ? DkimKey.State.PENDING : DkimKey.State.ACTIVE;
        if (own != null) {
            made.add(keyring.importKey(name, own, rsaState));
        } else {
            if (rsa.isPresent() || ed.isEmpty()) {
                int bits = keyLength != null ? keyLength : rsa.map(DkimKey::bits)
                        .filter(KEY_LENGTHS::contains).orElse(DomainSpec.DEFAULT_KEY_LENGTH);
                made.add(keyring.generate(name, stem, DkimAlgorithm.RSA, bits, rsaState));
            }
            if (ed.isPresent()) {
                made.add(keyring.generate(name, stem + "e", DkimAlgorithm.ED25519, 256, DkimKey.State.PENDING));
            }
        }
        keys.addAll(made);
        Instant now = now();
        SendingDomain d = old.with(old.sharedWithSubaccounts(), old.ownershipVerified(), now, keys);
        String detail = "new: " + made.stream().map(k -> k.selector() + ":" + k.algorithm().keyType() + "-" + k.bits()
                + (k.state() == DkimKey.State.PENDING ? "(pending)" : "")).collect(Collectors.joining(","))
                + (own == null ? "" : " imported")
                + (old.pending().isEmpty() ? "" : "; replaces the pending "
                + old.pending().stream().map(DkimKey::selector).collect(Collectors.joining(",")));
        store.update(d, event(now, actor, ROTATED, name, detail));
        log.info("sending domain DKIM rotation: domain={} {} by {}", name, detail, actor);
        fire(name);
        return d;
    }

    /**
     * Looks the domain's DKIM records up in DNS now and saves what the answers say ({@link DomainVerifier}); the
     * check is audited whatever its outcome.
     */
    public DomainVerifier.Verification verify(DomainName name, Actor actor) {
        return verifier.verify(name, actor);
    }

    /** A background re-check of one domain (audited only when a status changed). */
    DomainVerifier.Verification recheck(SendingDomain d) {
        return verifier.recheck(d);
    }

    /** Now, to the microsecond: what both databases store, so a saved time reads back equal. */
    Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    public Clock clock() {
        return clock;
    }

    public DkimKeyring keyring() {
        return keyring;
    }

    JdbcDomainStore store() {
        return store;
    }

    /** Saves a domain changed elsewhere in this package; audited unless {@code action} is null. */
    void save(SendingDomain d, Actor actor, String action, String detail) {
        store.update(d, action == null ? null : event(now(), actor, action, d.name(), detail));
        fire(d.name());
    }

    private void fire(DomainName name) {
        for (Consumer<DomainName> l : listeners) {
            try {
                l.accept(name);
            } catch (RuntimeException e) {
                log.warn("domain change listener failed", e);
            }
        }
    }

    private static DomainException conflict(DomainName name) {
        return new DomainException(DomainException.Kind.CONFLICT, "domain", "domain: " + name
                + " is a sending domain already");
    }

    static AuditEvent event(Instant at, Actor actor, String action, DomainName name, String detail) {
        return new AuditEvent(null, at, actor.name(), action, null, null, null,
                "domain=" + name + (detail == null || detail.isEmpty() ? "" : " " + detail));
    }

    private static String describe(SendingDomain d) {
        return (d.subaccountId() == null ? "account=primary" : "subaccount_id=" + d.subaccountId())
                + " shared_with_subaccounts=" + d.sharedWithSubaccounts() + " dkim=" + keysText(d);
    }

    static String keysText(SendingDomain d) {
        if (d.keys().isEmpty()) {
            return "none";
        }
        return d.keys().stream().map(k -> k.selector() + ":" + k.algorithm().keyType() + "-" + k.bits()
                + (k.state() == DkimKey.State.PENDING ? "(pending)" : "")).collect(Collectors.joining(","));
    }
}
