package io.keyrelay.keys;

import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import io.keyrelay.text.Times;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, lists, updates and revokes keys: the one door every admin surface (CLI, REST API, console) goes
 * through. It validates requests, hashes new secrets, writes the audit trail, and tells this process's key
 * cache about each change at once (other processes learn of it through the store's change notices).
 */
public final class KeyService {
    private static final Logger log = LoggerFactory.getLogger(KeyService.class);
    public static final int MAX_LABEL_LENGTH = 1024;
    /** Most allowed-IP entries per key: the longest entry (an IPv6 /128, 43 characters) times this fits the column. */
    public static final int MAX_VALID_IPS = 400;
    /** Most sending domains a key may be narrowed to: each up to 253 characters and a comma fits the column. */
    public static final int MAX_SENDING_DOMAINS = 50;
    /** The latest expiry accepted: both databases store it, and anything later is a typo. */
    static final Instant MAX_EXPIRY = Instant.parse("9999-12-31T23:59:59Z");

    private final KeyStore store;
    private final KeyHasher hasher;
    private final KeyGenerator generator;
    private final Clock clock;
    private final List<Consumer<String>> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<java.util.function.LongConsumer> noticeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public KeyService(KeyStore store, KeyHasher hasher, KeyGenerator generator, Clock clock) {
        this.store = store;
        this.hasher = hasher;
        this.generator = generator;
        this.clock = clock;
    }

    /** Registers a callback told the hash of every key this service changes, after the change is committed. */
    public void onChange(Consumer<String> keyHashListener) {
        changeListeners.add(keyHashListener);
    }

    /** Registers a callback told the id of each change notice this service wrote (see {@link KeyChangePoller#seen}). */
    public void onChangeNotice(java.util.function.LongConsumer noticeListener) {
        noticeListeners.add(noticeListener);
    }

    /** Creates a key. The returned {@link CreatedKey} holds the secret; nothing else ever will. */
    public CreatedKey create(KeySpec spec, Actor actor) {
        return create(spec, actor, KeyChangePolicy.NONE);
    }

    /** Creates a key that {@code policy} allows (it is checked on the key as it would be stored). */
    public CreatedKey create(KeySpec spec, Actor actor, KeyChangePolicy policy) {
        String label = validLabel(spec.label());
        if (spec.grants().isEmpty()) {
            throw new KeyValidationException("grants", "at least one grant is required; valid grants are: "
                    + Grant.allNames());
        }
        validSubaccount(spec.subaccountId());
        validIps(spec.validIps());
        validSendingDomains(spec.sendingDomains());
        Instant now = clock.instant();
        if (spec.expiresAt() != null && !spec.expiresAt().isAfter(now)) {
            throw new KeyValidationException("expires_at", "expires_at " + Times.iso(spec.expiresAt()) + " is not in the future");
        }
        validExpiry(spec.expiresAt());
        for (int attempt = 0; ; attempt++) {
            String secret = generator.newKey();
            ApiKey key = new ApiKey(generator.newId(), label, KeyGenerator.shortKeyOf(secret), hasher.hash(secret),
                    spec.grants(), spec.validIps(), spec.subaccountId(), now, now, null, null, spec.expiresAt(), null,
                    spec.limits(), spec.sendingDomains());
            if (attempt == 0) {
                policy.check(null, key);
            }
            long notice;
            try {
                notice = store.insert(key, event(now, actor, AuditEvent.KEY_CREATED, key, describe(key)));
            } catch (StoreException e) {
                if (e.isDuplicate() && attempt < 2) {
                    continue; // a 160-bit collision: astronomically unlikely, but never fatal
                }
                throw e;
            }
            log.info("API key created: id={} short_key={} label={} grants={} valid_ips={} subaccount={}{} by {}",
                    key.id(), key.shortKey(), LogText.quote(key.label()), key.grantNames(), key.validIps().asStrings(),
                    key.subaccountId(), key.limits().allDefault() ? "" : " limits: " + key.limits().describe(), actor);
            fire(key.keyHash(), notice);
            return new CreatedKey(key, secret);
        }
    }

    public List<ApiKey> list() {
        return store.list(null, false);
    }

    /** Keys of one subaccount ({@code subaccountId} non-null), or of the primary account only. */
    public List<ApiKey> list(Long subaccountId, boolean primaryOnly) {
        return store.list(subaccountId, primaryOnly);
    }

    public ApiKey get(String id) {
        return store.findById(validId(id)).orElseThrow(() -> new KeyNotFoundException(id));
    }

    /** Applies a partial update. A revoked key cannot be changed. */
    public ApiKey update(String id, KeyUpdate update, Actor actor) {
        return update(id, update, actor, KeyChangePolicy.NONE);
    }

    /** Applies a partial update that {@code policy} allows (checked on the key as it would be stored). */
    public ApiKey update(String id, KeyUpdate update, Actor actor, KeyChangePolicy policy) {
        ApiKey old = get(id);
        if (old.isRevoked()) {
            throw KeyValidationException.conflict("id", "API key " + id + " is revoked and cannot be changed");
        }
        if (update.isEmpty()) {
            return old;
        }
        String label = update.label().map(KeyService::validLabel).orElse(old.label());
        Set<Grant> grants = update.grants().orElse(old.grants());
        if (grants.isEmpty()) {
            throw new KeyValidationException("grants", "at least one grant is required; valid grants are: "
                    + Grant.allNames());
        }
        IpAllowlist ips = update.validIps().orElse(old.validIps());
        validIps(ips);
        Instant now = clock.instant();
        Instant expires = update.expiresAt().isPresent() ? update.expiresAt().get().orElse(null) : old.expiresAt();
        if (update.expiresAt().isPresent() && expires != null && !expires.isAfter(now)) {
            throw new KeyValidationException("expires_at", "expires_at " + Times.iso(expires) + " is not in the future");
        }
        validExpiry(expires);
        KeyLimits limits = update.applyLimits(old.limits());
        ApiKey updated = new ApiKey(old.id(), label, old.shortKey(), old.keyHash(), grants, ips, old.subaccountId(),
                old.createdAt(), now, old.lastUsedAt(), old.lastUsedIp(), expires, null, limits,
                update.sendingDomains().orElse(old.sendingDomains()));
        validSendingDomains(updated.sendingDomains());
        String diff = diff(old, updated);
        if (diff.isEmpty()) {
            return old;
        }
        policy.check(old, updated);
        long notice = store.update(updated, event(now, actor, AuditEvent.KEY_UPDATED, updated, diff));
        log.info("API key updated: id={} short_key={} {} by {}", updated.id(), updated.shortKey(), diff, actor);
        fire(updated.keyHash(), notice);
        return updated;
    }

    /** Revokes a key; SMTP AUTH and API calls with it fail from now on. Revoking twice is harmless. */
    public ApiKey revoke(String id, Actor actor) {
        ApiKey old = get(id);
        if (old.isRevoked()) {
            return old;
        }
        Instant now = clock.instant();
        ApiKey revoked = new ApiKey(old.id(), old.label(), old.shortKey(), old.keyHash(), old.grants(), old.validIps(),
                old.subaccountId(), old.createdAt(), now, old.lastUsedAt(), old.lastUsedIp(), old.expiresAt(), now,
                old.limits(), old.sendingDomains());
        long notice = store.update(revoked, event(now, actor, AuditEvent.KEY_REVOKED, revoked, null));
        log.info("API key revoked: id={} short_key={} by {}", revoked.id(), revoked.shortKey(), actor);
        fire(revoked.keyHash(), notice);
        return revoked;
    }

    public List<AuditEvent> audit(String keyId, Instant since, int limit) {
        return store.audit(keyId, null, since, limit);
    }

    /** The audit trail, newest first; every filter may be null (see {@link KeyStore#audit(String, String, Instant, int)}). */
    public List<AuditEvent> audit(String keyId, String action, Instant since, int limit) {
        return store.audit(keyId, action, since, limit);
    }

    public Clock clock() {
        return clock;
    }

    private void fire(String keyHash, long notice) {
        for (java.util.function.LongConsumer l : noticeListeners) {
            l.accept(notice);
        }
        for (Consumer<String> l : changeListeners) {
            try {
                l.accept(keyHash);
            } catch (RuntimeException e) {
                log.warn("key change listener failed", e);
            }
        }
    }

    private static AuditEvent event(Instant at, Actor actor, String action, ApiKey key, String detail) {
        return new AuditEvent(null, at, actor.name(), action, key.id(), key.shortKey(), actor.clientAddress(), detail);
    }

    static String validLabel(String label) {
        String l = label == null ? "" : label.strip();
        if (l.isEmpty()) {
            throw new KeyValidationException("label", "label is required");
        }
        if (l.length() > MAX_LABEL_LENGTH) {
            throw new KeyValidationException("label", "label is longer than " + MAX_LABEL_LENGTH + " characters");
        }
        for (int i = 0; i < l.length(); ) {
            int cp = l.codePointAt(i);
            if (!printable(cp)) {
                throw new KeyValidationException("label", String.format("label contains U+%04X, a control, format"
                        + " (such as a bidirectional override) or unpaired surrogate character; labels are"
                        + " printable text", cp));
            }
            i += Character.charCount(cp);
        }
        return l;
    }

    /**
     * False for what must not reach a log line or a page as it is: controls (Cc, line breaks and NUL among them),
     * format characters (Cf: the bidirectional overrides U+202A–U+202E and isolates U+2066–U+2069, zero-width
     * characters), line and paragraph separators, and unpaired surrogates (which no database stores as UTF-8).
     */
    static boolean printable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    private static void validIps(IpAllowlist ips) {
        if (ips.ranges().size() > MAX_VALID_IPS) {
            throw new KeyValidationException("valid_ips", "valid_ips has " + ips.ranges().size()
                    + " entries; at most " + MAX_VALID_IPS + " are allowed (use CIDR blocks to cover more addresses)");
        }
    }

    private static void validSendingDomains(List<String> domains) {
        if (domains.size() > MAX_SENDING_DOMAINS) {
            throw new KeyValidationException("sending_domains", "sending_domains has " + domains.size()
                    + " entries; at most " + MAX_SENDING_DOMAINS + " are allowed");
        }
    }

    private static void validExpiry(Instant expires) {
        if (expires != null && expires.isAfter(MAX_EXPIRY)) {
            throw new KeyValidationException("expires_at", "expires_at " + expires + " is after " + MAX_EXPIRY);
        }
    }

    private static void validSubaccount(Long id) {
        if (id != null && id < 0) {
            throw new KeyValidationException("subaccount_id", "subaccount_id " + id + " is negative");
        }
    }

    private static String validId(String id) {
        if (id == null || id.isBlank()) {
            throw new KeyValidationException("id", "a key id is required");
        }
        return id.strip();
    }

    private static String describe(ApiKey k) {
        return "label=" + LogText.quote(k.label()) + " grants=" + k.grantNames() + " valid_ips=" + k.validIps().asStrings()
                + (k.subaccountId() == null ? "" : " subaccount_id=" + k.subaccountId())
                + (k.expiresAt() == null ? "" : " expires_at=" + Times.iso(k.expiresAt()))
                + (k.limits().allDefault() ? "" : " " + k.limits().describe())
                + (k.sendingDomains().isEmpty() ? "" : " sending_domains=" + k.sendingDomains());
    }

    private static String domainsText(ApiKey k) {
        return k.sendingDomains().isEmpty() ? "any" : k.sendingDomains().toString();
    }

    private static String limitText(KeyLimits.Limit l, Long v) {
        return v == null ? "default" : l.format(v);
    }

    private static String diff(ApiKey a, ApiKey b) {
        List<String> parts = new ArrayList<>();
        if (!a.label().equals(b.label())) {
            parts.add("label: " + LogText.quote(a.label()) + " -> " + LogText.quote(b.label()));
        }
        if (!a.grants().equals(b.grants())) {
            parts.add("grants: " + a.grantNames() + " -> " + b.grantNames());
        }
        if (!a.validIps().equals(b.validIps())) {
            parts.add("valid_ips: " + a.validIps().asStrings() + " -> " + b.validIps().asStrings());
        }
        if (!Objects.equals(a.expiresAt(), b.expiresAt())) {
            parts.add("expires_at: " + Times.iso(a.expiresAt()) + " -> " + Times.iso(b.expiresAt()));
        }
        if (!a.sendingDomains().equals(b.sendingDomains())) {
            parts.add("sending_domains: " + domainsText(a) + " -> " + domainsText(b));
        }
        for (KeyLimits.Limit l : KeyLimits.Limit.values()) {
            Long from = l.get(a.limits());
            Long to = l.get(b.limits());
            if (!Objects.equals(from, to)) {
                parts.add(l.wireName() + ": " + limitText(l, from) + " -> " + limitText(l, to));
            }
        }
        return String.join("; ", parts);
    }
}
