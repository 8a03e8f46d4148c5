package io.keyrelay.keys;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where keys live. Implementations are thread-safe. Every write records an audit event and a change
 * notice (so other processes sharing the store can drop their cached copy) in the same transaction.
 */
public interface KeyStore {

    /** Stores a new key; returns the id of the change notice written with it. */
    long insert(ApiKey key, AuditEvent event);

    /**
     * Replaces the mutable fields (label, grants, valid_ips, expires_at, revoked_at, updated_at) of an existing key;
     * returns the id of the change notice written with it.
     */
    long update(ApiKey key, AuditEvent event);

    Optional<ApiKey> findById(String id);

    /** The one indexed read on the AUTH path (through the cache). */
    Optional<ApiKey> findByHash(String keyHash);

    /** All keys, or those of one subaccount; {@code primaryOnly} narrows to keys with no subaccount. */
    List<ApiKey> list(Long subaccountId, boolean primaryOnly);

    /** Records when and from where keys were last used; batched, off the hot path. */
    void recordUsage(Collection<Usage> usages);

    /** Appends events that belong to no key change (failed AUTHs), in one transaction. */
    void appendAudit(Collection<AuditEvent> events);

    /**
     * The newest audit events first, at most {@code limit}; each filter may be null: {@code keyId} (one key's
     * events), {@code action} (e.g. {@link AuditEvent#AUTH_FAILED}), {@code since} (at or after).
     */
    List<AuditEvent> audit(String keyId, String action, Instant since, int limit);

    default List<AuditEvent> audit(String keyId, Instant since, int limit) {
        return audit(keyId, null, since, limit);
    }

    /**
     * Hashes of keys changed since {@code since} (database time) and the database's current time, which the
     * caller passes back as the next {@code since}.
     */
    Changes changesSince(Instant since);

    /** Deletes change notices older than {@code before}; returns how many. */
    int pruneChanges(Instant before);

    /** Cheap liveness check for readiness probes. */
    boolean ping();

    /** One key's last use. */
    record Usage(String keyId, Instant at, String clientAddress) {}

    /** Changed key hashes with the store's clock at the time of the read. */
    record Changes(List<Change> changes, Instant now) {}

    record Change(long id, String keyHash) {}
}
