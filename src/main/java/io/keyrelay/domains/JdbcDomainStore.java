package io.keyrelay.domains;

import static io.keyrelay.store.Jdbc.instant;
import static io.keyrelay.store.Jdbc.setInstant;
import static io.keyrelay.store.Jdbc.setLong;

import io.keyrelay.keys.AuditEvent;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Sending domains and their DKIM keys over JDBC, for PostgreSQL and H2 alike. A domain and its keys are written
 * together, with the audit event of the change, in one transaction. Failures surface as {@link StoreException}.
 */
public final class JdbcDomainStore {
    private static final String DOMAIN_COLUMNS = "d.domain, d.subaccount_id, d.shared_with_subaccounts,"
            + " d.ownership_verified, d.created_at, d.updated_at";
    private static final String KEY_COLUMNS = "k.selector, k.algorithm, k.bits, k.public_key, k.private_key, k.state,"
            + " k.dkim_status, k.last_checked_at, k.created_at";
    private static final String SELECT = "SELECT " + DOMAIN_COLUMNS + ", " + KEY_COLUMNS
            + " FROM sending_domains d LEFT JOIN dkim_keys k ON k.domain = d.domain";
    private static final String ORDER = " ORDER BY d.domain, k.created_at, k.selector";

    /**
     * The change-notice topic ({@link ChangeNotices}) of a domain or its keys changed, created or deleted; the
     * details are the domain's A-label name. Sent in the change's transaction, so other nodes hear of it at commit.
     */
    public static final String TOPIC = "domain";

    private final DataSource dataSource;

    public JdbcDomainStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Inserts a new domain and its keys; a domain configured already is a duplicate-key {@link StoreException}. */
    public void insert(SendingDomain d, AuditEvent event) {
        inTransaction("insert sending domain", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO sending_domains (domain, subaccount_id,"
                    + " shared_with_subaccounts, ownership_verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, d.name().ascii());
                setLong(ps, 2, d.subaccountId());
                ps.setBoolean(3, d.sharedWithSubaccounts());
                ps.setBoolean(4, d.ownershipVerified());
                setInstant(ps, 5, d.createdAt());
                setInstant(ps, 6, d.updatedAt());
                ps.executeUpdate();
            }
            insertKeys(c, d.keys());
            insertAudit(c, event);
            ChangeNotices.send(c, TOPIC, d.name().ascii());
            return null;
        });
    }

    /** Rewrites a domain's row and its set of keys (keys not in {@code d} are dropped); {@code event} may be null. */
    public void update(SendingDomain d, AuditEvent event) {
        inTransaction("update sending domain", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE sending_domains SET shared_with_subaccounts = ?,"
                    + " ownership_verified = ?, updated_at = ? WHERE domain = ?")) {
                ps.setBoolean(1, d.sharedWithSubaccounts());
                ps.setBoolean(2, d.ownershipVerified());
                setInstant(ps, 3, d.updatedAt());
                ps.setString(4, d.name().ascii());
                if (ps.executeUpdate() != 1) {
                    throw DomainException.notFound(d.name().ascii());
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM dkim_keys WHERE domain = ?")) {
                ps.setString(1, d.name().ascii());
                ps.executeUpdate();
            }
            insertKeys(c, d.keys());
            insertAudit(c, event);
            ChangeNotices.send(c, TOPIC, d.name().ascii());
            return null;
        });
    }

    /** Deletes a domain and its keys; false if there was none. */
    public boolean delete(DomainName name, AuditEvent event) {
        return inTransaction("delete sending domain", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM dkim_keys WHERE domain = ?")) {
                ps.setString(1, name.ascii());
                ps.executeUpdate();
            }
            int n;
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM sending_domains WHERE domain = ?")) {
                ps.setString(1, name.ascii());
                n = ps.executeUpdate();
            }
            if (n == 1) {
                insertAudit(c, event);
                ChangeNotices.send(c, TOPIC, name.ascii());
            }
            return n == 1;
        });
    }

    public Optional<SendingDomain> find(DomainName name) {
        return query("find sending domain", SELECT + " WHERE d.domain = ?" + ORDER, ps -> ps.setString(1, name.ascii()))
                .stream().findFirst();
    }

    /** Every domain. */
    public List<SendingDomain> list() {
        return query("list sending domains", SELECT + ORDER, ps -> {});
    }

    /**
     * The domains a subaccount works with: its own, and (with {@code withShared}) the primary account's shared ones.
     * {@code subaccount} null: the primary account's own.
     */
    public List<SendingDomain> list(Long subaccount, boolean withShared) {
        String own = subaccount == null ? "d.subaccount_id IS NULL" : "d.subaccount_id = ?";
        String shared = withShared && subaccount != null
                ? " OR (d.subaccount_id IS NULL AND d.shared_with_subaccounts = TRUE)" : "";
        return query("list sending domains", SELECT + " WHERE " + own + shared + ORDER, ps -> {
            if (subaccount != null) {
                ps.setLong(1, subaccount);
            }
        });
    }

    /** How many domains are configured (start-up checks). */
    public int count() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM sending_domains");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new StoreException("count sending domains", e);
        }
    }

    // ---- plumbing ----

    private static void insertKeys(Connection c, List<DkimKey> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO dkim_keys (domain, selector, algorithm, bits,"
                + " public_key, private_key, state, dkim_status, last_checked_at, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (DkimKey k : keys) {
                ps.setString(1, k.domain().ascii());
                ps.setString(2, k.selector());
                ps.setString(3, k.algorithm().keyType());
                ps.setInt(4, k.bits());
                ps.setString(5, k.publicKey());
                ps.setString(6, k.sealedPrivateKey());
                ps.setString(7, k.state().name().toLowerCase(Locale.ROOT));
                ps.setString(8, k.status().wireName());
                setInstant(ps, 9, k.lastCheckedAt());
                setInstant(ps, 10, k.createdAt());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void insertAudit(Connection c, AuditEvent e) throws SQLException {
        if (e == null) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (occurred_at, actor, action, key_id,"
                + " short_key, client_address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            setInstant(ps, 1, e.at());
            ps.setString(2, truncate(e.actor(), 200));
            ps.setString(3, e.action());
            ps.setString(4, e.keyId());
            ps.setString(5, e.shortKey());
            ps.setString(6, e.clientAddress());
            ps.setString(7, e.detail() == null ? null : truncate(e.detail(), 4000));
            ps.executeUpdate();
        }
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    private List<SendingDomain> query(String what, String sql, Binder binder) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            Map<String, Row> rows = new LinkedHashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String domain = rs.getString(1);
                    Row row = rows.get(domain);
                    if (row == null) {
                        long sub = rs.getLong(2);
                        row = new Row(new DomainName(domain), rs.wasNull() ? null : sub, rs.getBoolean(3),
                                rs.getBoolean(4), instant(rs, 5), instant(rs, 6), new ArrayList<>());
                        rows.put(domain, row);
                    }
                    String selector = rs.getString(7);
                    if (selector != null) {
                        row.keys().add(new DkimKey(row.name(), selector, DkimAlgorithm.of(rs.getString(8)),
                                rs.getInt(9), rs.getString(10), rs.getString(11),
                                DkimKey.State.valueOf(rs.getString(12).toUpperCase(Locale.ROOT)),
                                DkimStatus.of(rs.getString(13)), instant(rs, 14), instant(rs, 15)));
                    }
                }
            }
            return rows.values().stream().map(Row::domain).toList();
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }

    private record Row(DomainName name, Long subaccountId, boolean shared, boolean verified, Instant created,
            Instant updated, List<DkimKey> keys) {
        SendingDomain domain() {
            return new SendingDomain(name, subaccountId, shared, verified, created, updated, keys);
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
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }
}
