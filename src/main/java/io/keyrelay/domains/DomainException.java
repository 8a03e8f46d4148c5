package io.keyrelay.domains;

/**
 * A sending-domain request that cannot be carried out: its {@link Kind} says why (a broken rule, no such domain,
 * a domain configured already, DKIM keys that cannot be stored) and {@link #field()} names the offending input
 * ({@code domain}, {@code dkim_key_length}, {@code shared_with_subaccounts}, …) or setting ({@code dkim.master_key}).
 * Like SubEthaSMTP's RejectException it costs no stack trace.
 */
public final class DomainException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the request failed; each surface maps it to its own answer (REST: 422, 404, 409, 503). */
    public enum Kind { INVALID, NOT_FOUND, CONFLICT, NOT_CONFIGURED }

    private final Kind kind;
    private final String field;

    public DomainException(Kind kind, String field, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.field = field;
    }

    static DomainException invalid(String field, String message) {
        return new DomainException(Kind.INVALID, field, message);
    }

    static DomainException notFound(String domain) {
        return new DomainException(Kind.NOT_FOUND, "domain", "no sending domain " + domain);
    }

    public Kind kind() {
        return kind;
    }

    public String field() {
        return field;
    }
}
