package io.keyrelay.keys;

import static io.keyrelay.store.Jdbc.instant;
import static io.keyrelay.store.Jdbc.setInstant;
import static io.keyrelay.store.Jdbc.setLong;

import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.ChangeNotices;
import io.keyrelay.store.StoreException;
import io.keyrelay.store.Jdbc.Binder;
import io.keyrelay.store.Jdbc.SqlWork;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * {@link KeyStore} over JDBC, for PostgreSQL and H2 alike (the schema and statements are portable).
 * Failures surface as {@link StoreException}, carrying the SQLState.
 */
public final class JdbcKeyStore implements KeyStore {
    private static final String COLUMNS = "id, label, short_key, key_hash, grants, valid_ips, subaccount_id,"
            + " created_at, updated_at, last_used_at, last_used_ip, expires_at, revoked_at,"
            + " messages_per_minute, messages_per_day, max_recipients, max_message_size, sessions_per_key,"
            + " sending_domains";

    private final DataSource dataSource;

    public JdbcKeyStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public long insert(ApiKey k, AuditEvent event) {
        return inTransaction("insert key", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, k.id());
                ps.setString(2, k.label());
                ps.setString(3, k.shortKey());
                ps.setString(4, k.keyHash());
                ps.setString(5, joinGrants(k.grants()));
                ps.setString(6, String.join(",", k.validIps().asStrings()));
                setLong(ps, 7, k.subaccountId());
                setInstant(ps, 8, k.createdAt());
                setInstant(ps, 9, k.updatedAt());
                setInstant(ps, 10, k.lastUsedAt());
                ps.setString(11, k.lastUsedIp());
                setInstant(ps, 12, k.expiresAt());
                setInstant(ps, 13, k.revokedAt());
                setLimits(ps, 14, k.limits());
                ps.setString(14 + KeyLimits.Limit.values().length, joinDomains(k.sendingDomains()));
                ps.executeUpdate();
            }
            long change = noteChange(c, k.keyHash());
            insertAudit(c, event);
            return change;
        });
    }

    @Override
    public long update(ApiKey k, AuditEvent event) {
        return inTransaction("update key", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET label = ?, grants = ?, valid_ips = ?,"
                    + " expires_at = ?, revoked_at = ?, updated_at = ?, messages_per_minute = ?, messages_per_day = ?,"
                    + " max_recipients = ?, max_message_size = ?, sessions_per_key = ?, sending_domains = ? WHERE id = ?")) {
                ps.setString(1, k.label());
                ps.setString(2, joinGrants(k.grants()));
                ps.setString(3, String.join(",", k.validIps().asStrings()));
                setInstant(ps, 4, k.expiresAt());
                setInstant(ps, 5, k.revokedAt());
                setInstant(ps, 6, k.updatedAt());
                setLimits(ps, 7, k.limits());
                ps.setString(7 + KeyLimits.Limit.values().length, joinDomains(k.sendingDomains()));
                ps.setString(8 + KeyLimits.Limit.values().length, k.id());
                if (ps.executeUpdate() != 1) {
                    throw new KeyNotFoundException(k.id());
                }
            }
            long change = noteChange(c, k.keyHash());
            insertAudit(c, event);
            return change;
        });
    }

    @Override
    public Optional<ApiKey> findById(String id) {
        return query("find key by id", "SELECT " + COLUMNS + " FROM api_keys WHERE id = ?", ps -> ps.setString(1, id))
                .stream().findFirst();
    }

    @Override
    public Optional<ApiKey> findByHash(String keyHash) {
        return query("find key by hash", "SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = ?",
                ps -> ps.setString(1, keyHash)).stream().findFirst();
    }

    @Override
    public List<ApiKey> list(Long subaccountId, boolean primaryOnly) {
        if (primaryOnly) {
            return query("list keys", "SELECT " + COLUMNS + " FROM api_keys WHERE subaccount_id IS NULL"
                    + " ORDER BY created_at, id", ps -> {});
        }
        if (subaccountId != null) {
            return query("list keys", "SELECT " + COLUMNS + " FROM api_keys WHERE subaccount_id = ?"
                    + " ORDER BY created_at, id", ps -> ps.setLong(1, subaccountId));
        }
        return query("list keys", "SELECT " + COLUMNS + " FROM api_keys ORDER BY created_at, id", ps -> {});
    }

    @Override
    public void recordUsage(Collection<Usage> usages) {
        if (usages.isEmpty()) {
            return;
        }
        inTransaction("record key usage", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET last_used_at = ?, last_used_ip = ?"
                    + " WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")) {
                for (Usage u : usages) {
                    setInstant(ps, 1, u.at());
                    ps.setString(2, u.clientAddress());
                    ps.setString(3, u.keyId());
                    setInstant(ps, 4, u.at());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void appendAudit(Collection<AuditEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        inTransaction("append audit events", c -> {
            try (PreparedStatement ps = c.prepareStatement(INSERT_AUDIT)) {
                for (AuditEvent e : events) {
                    bindAudit(ps, e);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public List<AuditEvent> audit(String keyId, String action, Instant since, int limit) {
        StringBuilder sql = new StringBuilder("SELECT id, occurred_at, actor, action, key_id, short_key,"
                + " client_address, detail FROM audit_events WHERE 1 = 1");
        if (keyId != null) {
            sql.append(" AND key_id = ?");
        }
        if (action != null) {
            sql.append(" AND action = ?");
        }
        if (since != null) {
            sql.append(" AND occurred_at >= ?");
        }
        sql.append(" ORDER BY occurred_at DESC, id DESC");
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            if (keyId != null) {
                ps.setString(i++, keyId);
            }
            if (action != null) {
                ps.setString(i++, action);
            }
            if (since != null) {
                setInstant(ps, i, since);
            }
            ps.setMaxRows(limit);
            List<AuditEvent> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new AuditEvent(rs.getLong(1), instant(rs, 2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("read audit events", e);
        }
    }

    @Override
    public Changes changesSince(Instant since) {
        try (Connection c = dataSource.getConnection()) {
            Instant now;
            try (PreparedStatement ps = c.prepareStatement("SELECT CURRENT_TIMESTAMP");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                now = instant(rs, 1);
            }
            List<Change> changes = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, key_hash FROM key_changes WHERE changed_at >= ? ORDER BY id")) {
                setInstant(ps, 1, since);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        changes.add(new Change(rs.getLong(1), rs.getString(2)));
                    }
                }
            }
            return new Changes(changes, now);
        } catch (SQLException e) {
            throw new StoreException("read key changes", e);
        }
    }

    @Override
    public int pruneChanges(Instant before) {
        return inTransaction("prune key changes", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM key_changes WHERE changed_at < ?")) {
                setInstant(ps, 1, before);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public boolean ping() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    // ---- plumbing ----

    private static long noteChange(Connection c, String keyHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO key_changes (key_hash, changed_at) VALUES (?, CURRENT_TIMESTAMP)",
                java.sql.Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, keyHash);
            ps.executeUpdate();
            long id;
            try (ResultSet keys = ps.getGeneratedKeys()) {
                id = keys.next() ? keys.getLong(1) : -1;
            }
            // The other nodes hear of it at commit (PostgreSQL); the row is what they read when they missed it.
            ChangeNotices.send(c, KeyChangePoller.TOPIC, id + " " + keyHash);
            return id;
        }
    }

    private static final String INSERT_AUDIT = "INSERT INTO audit_events (occurred_at, actor, action, key_id,"
            + " short_key, client_address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)";

    private static void insertAudit(Connection c, AuditEvent e) throws SQLException {
        if (e == null) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_AUDIT)) {
            bindAudit(ps, e);
            ps.executeUpdate();
        }
    }

    private static void bindAudit(PreparedStatement ps, AuditEvent e) throws SQLException {
        setInstant(ps, 1, e.at());
        ps.setString(2, truncate(e.actor(), 200));
        ps.setString(3, e.action());
        ps.setString(4, e.keyId());
        ps.setString(5, e.shortKey());
        ps.setString(6, e.clientAddress() == null ? null : truncate(e.clientAddress(), 64));
        ps.setString(7, e.detail() == null ? null : truncate(e.detail(), 4000));
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    private List<ApiKey> query(String what, String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<ApiKey> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }

    private <T> T inTransaction(String what, SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException r) {
            cause.addSuppressed(r);
        }
    }

    private static ApiKey read(ResultSet rs) throws SQLException {
        long sub = rs.getLong(7);
        Long subaccount = rs.wasNull() ? null : sub;
        return new ApiKey(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                parseGrants(rs.getString(5)),
                IpAllowlist.parse(splitList(rs.getString(6))),
                subaccount,
                instant(rs, 8),
                instant(rs, 9),
                instant(rs, 10),
                rs.getString(11),
                instant(rs, 12),
                instant(rs, 13),
                new KeyLimits(nullableLong(rs, 14), nullableLong(rs, 15), nullableLong(rs, 16), nullableLong(rs, 17),
                        nullableLong(rs, 18)),
                splitList(rs.getString(19)));
    }

    /** The limits into consecutive parameters (in {@link KeyLimits.Limit} order, as in the SQL), from {@code first}. */
    private static void setLimits(PreparedStatement ps, int first, KeyLimits l) throws SQLException {
        int i = first;
        for (KeyLimits.Limit limit : KeyLimits.Limit.values()) {
            setLong(ps, i++, limit.get(l));
        }
    }

    private static Long nullableLong(ResultSet rs, int col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }

    private static Set<Grant> parseGrants(String s) {
        return Grant.parseAll(splitList(s));
    }

    private static List<String> splitList(String s) {
        return s == null || s.isEmpty() ? List.of() : Arrays.asList(s.split(","));
    }

    /** Null for none, so a key made before V9 and one with an empty list read the same. */
    private static String joinDomains(List<String> domains) {
        return domains.isEmpty() ? null : String.join(",", domains);
    }

    private static String joinGrants(Set<Grant> grants) {
        return grants.stream().map(Grant::wireName).sorted().collect(Collectors.joining(","));
    }
}
