package io.keyrelay.domains;

import io.keyrelay.keys.Actor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a sending domain's DKIM records in DNS: the TXT record at {@code <selector>._domainkey.<domain>} must carry
 * this key's {@code p=} (and key type). An answer decides the key's status: the key there is {@code valid}, another
 * key (or no DKIM record among the TXT records) {@code invalid}, no such name or no TXT record {@code unverified}.
 * No answer (timeout, SERVFAIL) changes nothing. A pending key that verifies replaces the active key of its
 * algorithm (the end of a rotation); the domain's ownership is verified while an active key is valid.
 */
public final class DomainVerifier {
    private static final Logger log = LoggerFactory.getLogger(DomainVerifier.class);

    /** What one look-up found for one key. */
    public enum Outcome {
        VALID, WRONG_KEY, MISSING, UNAVAILABLE;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One key's check: the key as it is now, what DNS said, and words for the caller. */
    public record Check(DkimKey key, Outcome outcome, String detail) {}

    /** A verification: the domain as saved afterwards, and each key's check. */
    public record Verification(SendingDomain domain, List<Check> checks) {
        /** Why the domain's primary key is not valid, for SparkPost's {@code dkim_error}; null when it is. */
        public String error() {
            if (checks.isEmpty()) {
                return "the domain has no DKIM key to verify";
            }
            return checks.stream().filter(c -> c.outcome() != Outcome.VALID).map(Check::detail).findFirst()
                    .orElse(null);
        }
    }

    private final DomainService domains;
    private final DnsTxtLookup dns;

    public DomainVerifier(DomainService domains, DnsTxtLookup dns) {
        this.domains = domains;
        this.dns = dns;
    }

    /** An administrator's check (audited, whatever the outcome). */
    public Verification verify(DomainName name, Actor actor) {
        return check(domains.store().find(name).orElseThrow(() -> DomainException.notFound(name.ascii())), actor,
                true);
    }

    /** A background re-check: saved, and audited only when a status changed. */
    Verification recheck(SendingDomain d) {
        return check(d, Actor.SYSTEM, false);
    }

    private Verification check(SendingDomain d, Actor actor, boolean explicit) {
        Instant now = domains.now();
        List<Check> checks = new ArrayList<>();
        List<DkimKey> checked = new ArrayList<>();
        for (DkimKey k : d.keys()) {
            Check c = check(k, now);
            checks.add(c);
            checked.add(c.key());
        }
        List<DkimKey> keys = promote(checked);
        boolean verified = keys.stream().anyMatch(k -> k.state() == DkimKey.State.ACTIVE
                && k.status() == DkimStatus.VALID);
        SendingDomain after = d.with(d.sharedWithSubaccounts(), verified, checks.isEmpty() ? d.updatedAt() : now,
                keys);
        String changes = changes(d, after);
        if (explicit || !changes.isEmpty()) {
            String detail = (changes.isEmpty() ? "unchanged" : changes) + "; " + checks.stream()
                    .map(c -> c.key().selector() + ": " + c.outcome().wireName()).collect(Collectors.joining(", "));
            domains.save(after, actor, DomainService.CHECKED, detail);
            log.info("sending domain checked: domain={} {} by {}", d.name(), detail, actor);
        } else if (!checks.isEmpty()) {
            domains.save(after, null, null, null);
        }
        return new Verification(after, checks.stream()
                .map(c -> new Check(find(keys, c.key()), c.outcome(), c.detail())).toList());
    }

    private Check check(DkimKey k, Instant now) {
        String name = k.recordName();
        return switch (dns.txt(name)) {
            case DnsTxtLookup.Found f -> {
                List<DkimRecord> records = f.texts().stream().map(DkimRecord::parse).flatMap(java.util.Optional::stream)
                        .toList();
                if (records.stream().anyMatch(r -> r.publishes(k))) {
                    yield new Check(k.withStatus(DkimStatus.VALID, now), Outcome.VALID, name + " carries this key");
                }
                yield new Check(k.withStatus(DkimStatus.INVALID, now), Outcome.WRONG_KEY, records.isEmpty()
                        ? name + " has TXT records, but none is a DKIM key record"
                        : name + " carries another key than this domain's " + k.algorithm().keyType() + " key");
            }
            case DnsTxtLookup.Absent a -> new Check(k.withStatus(DkimStatus.UNVERIFIED, now), Outcome.MISSING,
                    a.nxdomain() ? name + " does not exist in DNS (NXDOMAIN)" : name + " has no TXT record");
            case DnsTxtLookup.Unavailable u -> new Check(k, Outcome.UNAVAILABLE, name + ": " + u.reason()
                    + "; the status is kept");
        };
    }

    /** A valid pending key takes the place of the active key of its algorithm, which is dropped. */
    private static List<DkimKey> promote(List<DkimKey> keys) {
        List<DkimKey> out = new ArrayList<>(keys);
        for (DkimKey p : keys) {
            if (p.state() == DkimKey.State.PENDING && p.status() == DkimStatus.VALID) {
                out.removeIf(k -> k.algorithm() == p.algorithm() && k.state() == DkimKey.State.ACTIVE);
                out.replaceAll(k -> k == p ? p.withState(DkimKey.State.ACTIVE) : k);
            }
        }
        return out;
    }

    private static DkimKey find(List<DkimKey> keys, DkimKey k) {
        return keys.stream().filter(x -> x.selector().equals(k.selector())).findFirst().orElse(k);
    }

    private static String changes(SendingDomain before, SendingDomain after) {
        List<String> parts = new ArrayList<>();
        if (before.dkimStatus() != after.dkimStatus()) {
            parts.add("dkim_status: " + before.dkimStatus().wireName() + " -> " + after.dkimStatus().wireName());
        }
        if (before.ownershipVerified() != after.ownershipVerified()) {
            parts.add("ownership_verified: " + before.ownershipVerified() + " -> " + after.ownershipVerified());
        }
        for (DkimKey k : after.keys()) {
            DkimKey old = before.keys().stream().filter(x -> x.selector().equals(k.selector())).findFirst()
                    .orElseThrow();
            if (old.state() != k.state()) {
                parts.add(k.selector() + " now " + k.state().name().toLowerCase(Locale.ROOT));
            } else if (old.status() != k.status() && !k.equals(after.primaryKey().orElse(null))) {
                parts.add(k.selector() + ": " + old.status().wireName() + " -> " + k.status().wireName());
            }
        }
        for (DkimKey old : before.keys()) {
            if (after.keys().stream().noneMatch(x -> x.selector().equals(old.selector()))) {
                parts.add(old.selector() + " retired");
            }
        }
        return String.join("; ", parts);
    }
}
