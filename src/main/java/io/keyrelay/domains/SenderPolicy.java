package io.keyrelay.domains;

import io.keyrelay.config.RelayConfig.RequireDomains;
import io.keyrelay.dkim.Authors;
import io.keyrelay.dkim.DkimSigner;
import io.keyrelay.keys.ApiKey;
import java.nio.file.Path;
import java.util.List;

/**
 * Which key may send as whom ({@code sending_domains.require}): the domain of every {@code From:} and {@code Sender:}
 * address, and of the envelope sender unless it is {@code <>} ({@code sending_domains.check_envelope}), must be a
 * sending domain of the key's account — its own, or the primary account's shared ones — and one of the key's own
 * {@code sending_domains} when it has a list; with {@code verified}, its DKIM record must have verified too. And
 * which messages are signed: those whose first {@code From:} domain has a key whose record verified (any key, with
 * {@code dkim.sign_unverified}).
 */
public final class SenderPolicy {
    /** Why a sender was refused, as the log line, the metric and the audit trail name it. */
    public enum Reason {
        UNCONFIGURED_DOMAIN, UNVERIFIED_DOMAIN, NOT_THE_KEYS_DOMAIN, NO_FROM, UNREADABLE_SENDER;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The policy's answer: empty for allowed, else the reason and the domain (or field) it concerns. */
    public record Refusal(Reason reason, String domain, String detail) {}

    private final DomainDirectory directory;
    private final DkimSigner signer;
    private final RequireDomains require;
    private final boolean checkEnvelope;
    private final boolean signUnverified;
    private final Path spoolDir;

    public SenderPolicy(DomainDirectory directory, DkimSigner signer, RequireDomains require, boolean checkEnvelope,
            boolean signUnverified, Path spoolDir) {
        this.directory = directory;
        this.signer = signer;
        this.require = require;
        this.checkEnvelope = checkEnvelope;
        this.signUnverified = signUnverified;
        this.spoolDir = spoolDir;
    }

    public RequireDomains require() {
        return require;
    }

    /** Where messages wait while their headers are checked and their signature made. */
    public Path spoolDir() {
        return spoolDir;
    }

    public DkimSigner signer() {
        return signer;
    }

    /**
     * Whether DATA must be held before it goes downstream: to check its headers, or because it may be signed (the
     * signature must precede the message).
     */
    public boolean holdsMessages() {
        return require != RequireDomains.OFF || directory.anyKeys();
    }

    /** The envelope sender's check at MAIL FROM ({@code sender} empty for {@code <>}); null when allowed. */
    public Refusal envelope(ApiKey key, String sender) {
        if (require == RequireDomains.OFF || !checkEnvelope || sender == null || sender.isEmpty()) {
            return null;
        }
        int at = sender.lastIndexOf('@');
        return domain(key, at < 0 ? "" : sender.substring(at + 1));
    }

    /** The header check after DATA; null when allowed. */
    public Refusal authors(ApiKey key, Authors authors) {
        if (require == RequireDomains.OFF) {
            return null;
        }
        return switch (authors) {
            case Authors.Unreadable u -> new Refusal(u.noParseableFrom() ? Reason.NO_FROM : Reason.UNREADABLE_SENDER,
                    u.field(), u.reason());
            case Authors.Found f -> {
                for (String d : f.domains()) {
                    Refusal r = domain(key, d);
                    if (r != null) {
                        yield r;
                    }
                }
                yield null;
            }
        };
    }

    /** The keys to sign a message with: those of its first {@code From:} domain, if it is a sending domain. */
    public List<io.keyrelay.dkim.SigningKey> signingKeys(Authors authors) {
        if (!(authors instanceof Authors.Found f)) {
            return List.of();
        }
        SendingDomain d = directory.find(f.from().get(0).domain());
        return d == null ? List.of() : directory.signingKeys(d, signUnverified);
    }

    private Refusal domain(ApiKey key, String text) {
        String ascii;
        try {
            ascii = DomainName.parse(text).ascii();
        } catch (DomainException e) {
            return new Refusal(Reason.UNCONFIGURED_DOMAIN, printable(text), "not a domain name");
        }
        SendingDomain d = directory.find(ascii);
        if (d == null || !d.usableBy(key.subaccountId())) {
            return new Refusal(Reason.UNCONFIGURED_DOMAIN, ascii, "not a sending domain of the key's account");
        }
        if (!key.sendingDomains().isEmpty() && !key.sendingDomains().contains(ascii)) {
            return new Refusal(Reason.NOT_THE_KEYS_DOMAIN, ascii, "not one of the key's sending_domains");
        }
        if (require == RequireDomains.VERIFIED && !d.ownershipVerified()) {
            return new Refusal(Reason.UNVERIFIED_DOMAIN, ascii, "its DKIM record has not verified");
        }
        return null;
    }

    /** A domain as it may appear in a reply: printable ASCII only, at most 253 characters. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(253).forEach(c -> b.append(c > 0x20 && c < 0x7f && c != '<' && c != '>' ? (char) c : '?'));
        return b.toString();
    }
}
