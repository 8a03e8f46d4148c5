package io.keyrelay.domains;

import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.KeyChangePolicy;
import io.keyrelay.keys.KeyValidationException;
import java.util.Objects;

/**
 * A key may be narrowed only to sending domains its own account may send as: its subaccount's, or the primary
 * account's shared ones (the primary account's own, for a primary-account key). Checked, on every surface, when the
 * list is set on create or changed on update; a refusal is a {@link KeyValidationException} naming
 * {@code sending_domains}.
 */
public final class SendingDomainPolicy implements KeyChangePolicy {
    private final DomainService domains;

    public SendingDomainPolicy(DomainService domains) {
        this.domains = domains;
    }

    @Override
    public void check(ApiKey before, ApiKey after) {
        if (before != null && Objects.equals(before.sendingDomains(), after.sendingDomains())) {
            return;
        }
        for (String d : after.sendingDomains()) {
            SendingDomain found = domains.store().find(new DomainName(d)).orElse(null);
            if (found == null || !found.usableBy(after.subaccountId())) {
                throw new KeyValidationException("sending_domains", "sending_domains: " + d + " is not a sending"
                        + " domain of " + (after.subaccountId() == null ? "the primary account"
                        : "subaccount " + after.subaccountId()) + " (add it first: keyrelay domains add " + d + ")");
            }
        }
    }

    /**
     * The A-label form of each entry a user typed, for a key's {@code sending_domains}.
     *
     * @throws KeyValidationException naming {@code sending_domains} and the entry that is not a domain name
     */
    public static java.util.List<String> normalise(java.util.Collection<String> typed) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String t : typed) {
            for (String part : t.split("[,\\s]+")) {
                if (part.isBlank()) {
                    continue;
                }
                try {
                    out.add(DomainName.parse(part).ascii());
                } catch (DomainException e) {
                    throw new KeyValidationException("sending_domains", "sending_domains: " + e.getMessage());
                }
            }
        }
        return out.stream().distinct().sorted().toList();
    }
}
