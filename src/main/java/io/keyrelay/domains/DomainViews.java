package io.keyrelay.domains;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The public shape of a sending domain, as the REST API, the CLI's {@code --json} and the console show it:
 * SparkPost's fields ({@code domain}, {@code shared_with_subaccounts}, {@code status}, {@code dkim} with
 * {@code selector}, {@code public}, {@code headers}, {@code signing_domain}) and keyrelay's additions
 * ({@code domain_unicode}, {@code subaccount_id}, {@code status.last_checked_at}, and {@code dns}: every TXT record
 * to publish). Never a private key, sealed or not.
 */
public final class DomainViews {
    /** The headers signed when present (the signer's list; From is over-signed, so none can be added after signing). */
    public static final String SIGNED_HEADERS = String.join(":", io.keyrelay.dkim.DkimSigner.SIGNED_FIELDS);

    private DomainViews() {}

    public static Map<String, Object> view(SendingDomain d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("domain", d.name().ascii());
        m.put("domain_unicode", d.name().unicode());
        m.put("subaccount_id", d.subaccountId());
        m.put("shared_with_subaccounts", d.sharedWithSubaccounts());
        m.put("status", status(d));
        d.primaryKey().ifPresent(k -> m.put("dkim", dkim(k)));
        m.put("dns", records(d));
        m.put("created_at", str(d.createdAt()));
        m.put("updated_at", str(d.updatedAt()));
        return m;
    }

    /** SparkPost's {@code status} object, with the time of the last DNS check. */
    public static Map<String, Object> status(SendingDomain d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ownership_verified", d.ownershipVerified());
        m.put("dkim_status", d.dkimStatus().wireName());
        m.put("last_checked_at", str(d.lastCheckedAt()));
        return m;
    }

    /** SparkPost's {@code dkim} object for one key. */
    static Map<String, Object> dkim(DkimKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("selector", k.selector());
        m.put("public", k.publicKey());
        m.put("headers", SIGNED_HEADERS);
        m.put("signing_domain", k.domain().ascii());
        return m;
    }

    /** Every TXT record the domain's owner should publish: the active keys, and a pending one during a rotation. */
    public static List<Map<String, Object>> records(SendingDomain d) {
        return d.keys().stream().map(DomainViews::record).toList();
    }

    /** One TXT record to publish, with its key's algorithm, length, state and status. */
    public static Map<String, Object> record(DkimKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "TXT");
        m.put("name", k.recordName());
        m.put("value", k.recordValue());
        m.put("selector", k.selector());
        m.put("algorithm", k.algorithm().signatureAlgorithm());
        m.put("bits", k.bits());
        m.put("state", k.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("dkim_status", k.status().wireName());
        m.put("last_checked_at", str(k.lastCheckedAt()));
        return m;
    }

    /** The answer to a verification: SparkPost's verify results, each key's check, and the domain's view. */
    public static Map<String, Object> verification(DomainVerifier.Verification v) {
        SendingDomain d = v.domain();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ownership_verified", d.ownershipVerified());
        m.put("dkim_status", d.dkimStatus().wireName());
        Map<String, Object> dns = new LinkedHashMap<>();
        d.primaryKey().ifPresent(k -> dns.put("dkim_record", k.recordValue()));
        String error = v.error();
        if (error != null) {
            dns.put("dkim_error", error);
        }
        m.put("dns", dns);
        m.put("checks", v.checks().stream().map(c -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", c.key().recordName());
            one.put("selector", c.key().selector());
            one.put("algorithm", c.key().algorithm().signatureAlgorithm());
            one.put("result", c.outcome().wireName());
            one.put("detail", c.detail());
            one.put("dkim_status", c.key().status().wireName());
            return one;
        }).toList());
        m.put("domain", view(d));
        return m;
    }

    private static String str(Instant t) {
        return t == null ? null : t.toString();
    }
}
