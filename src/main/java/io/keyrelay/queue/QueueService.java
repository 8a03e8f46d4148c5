package io.keyrelay.queue;

import io.keyrelay.keys.Actor;
import io.keyrelay.relay.MailParams;
import io.keyrelay.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reading and changing the queue, for every admin surface (CLI {@code queue …}, REST {@code /api/v1/queue}, the
 * console): list with filters, one message with its recipients and attempts, counts by state, and the operator's
 * verbs — retry (Postfix's {@code postqueue -i}/{@code -f}), hold ({@code postsuper -h}), release ({@code -H}) and
 * delete ({@code -d}). Each change is written to the audit trail in the same transaction, and a change that makes a
 * message due wakes this node's workers.
 */
public final class QueueService {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(QueueService.class);
    private static final String COLUMNS = "id, state, sender, declared_size, body_type, smtputf8, dsn_ret, dsn_envid,"
            + " key_id, short_key, subaccount_id, client_address, node, size, attempts, next_attempt, lease_owner,"
            + " last_reply, created_at, updated_at";

    /** Audit actions of the queue's changes. */
    public static final String RETRIED = "queue.retried";
    public static final String HELD = "queue.held";
    public static final String RELEASED = "queue.released";
    public static final String DELETED = "queue.deleted";

    /** What became of a requested change. */
    public enum Change {
        /** Done. */
        CHANGED,
        /** No message has that id. */
        NOT_FOUND,
        /** The message is in a state the change does not apply to (e.g. releasing one that is not held). */
        NOT_APPLICABLE
    }

    private final JdbcQueueStore store;
    private final Clock clock;
    private final Runnable wake;

    /** {@code wake} is called after a change that makes a message due now (the workers' wake-up; may do nothing). */
    public QueueService(JdbcQueueStore store, Clock clock, Runnable wake) {
        this.store = store;
        this.clock = clock;
        this.wake = wake;
    }

    /** Messages matching {@code filter}, oldest first, without their recipients and attempts. */
    public List<QueuedMessage> list(QueueFilter filter) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM queue_messages WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (filter.state() != null) {
            sql.append(" AND state = ?");
            args.add(filter.state().wireName());
        }
        if (filter.keyId() != null) {
            sql.append(" AND key_id = ?");
            args.add(filter.keyId());
        }
        if (filter.subaccountId() != null) {
            sql.append(" AND subaccount_id = ?");
            args.add(filter.subaccountId());
        }
        if (filter.text() != null) {
            // sender or any recipient containing the text, case-insensitively (the console's search box)
            sql.append(" AND (LOWER(sender) LIKE ? ESCAPE '!' OR EXISTS (SELECT 1 FROM queue_recipients r"
                    + " WHERE r.message_id = queue_messages.id AND LOWER(r.address) LIKE ? ESCAPE '!'))");
            String like = "%" + filter.text().toLowerCase(java.util.Locale.ROOT).replace("!", "!!").replace("%", "!%")
                    .replace("_", "!_") + "%";
            args.add(like);
            args.add(like);
        }
        if (filter.after() != null) {
            sql.append(" AND id > ?");
            args.add(filter.after());
        }
        sql.append(" ORDER BY id FETCH FIRST ").append(filter.limit()).append(" ROWS ONLY");
        try (Connection c = store.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<QueuedMessage> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(message(rs, List.of(), List.of(), List.of()));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("listing the queue", e);
        }
    }

    /** One message with every recipient (in RCPT order) and every attempt (oldest first). */
    public Optional<QueuedMessage> get(String id) {
        if (!QueueId.isValid(id)) {
            return Optional.empty();
        }
        try (Connection c = store.dataSource().getConnection()) {
            List<QueuedMessage.RecipientStatus> rcpts = new ArrayList<>();
            List<Envelope.Recipient> envRcpts = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT address, state, last_reply, dsn_notify, dsn_orcpt,"
                    + " updated_at FROM queue_recipients WHERE message_id = ? ORDER BY seq")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rcpts.add(new QueuedMessage.RecipientStatus(rs.getString(1), RecipientState.of(rs.getString(2)),
                                rs.getString(3), rs.getString(4), rs.getString(5), JdbcQueueStore.time(rs, 6)));
                        envRcpts.add(new Envelope.Recipient(rs.getString(1), rs.getString(4), rs.getString(5)));
                    }
                }
            }
            List<QueuedMessage.Attempt> attempts = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT attempt, node, started_at, finished_at, delivered,"
                    + " failed, deferred, summary FROM queue_attempts WHERE message_id = ? ORDER BY attempt")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        attempts.add(new QueuedMessage.Attempt(rs.getInt(1), rs.getString(2), JdbcQueueStore.time(rs, 3),
                                JdbcQueueStore.time(rs, 4), rs.getInt(5), rs.getInt(6), rs.getInt(7), rs.getString(8)));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM queue_messages WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(message(rs, envRcpts, rcpts, attempts)) : Optional.empty();
                }
            }
        } catch (SQLException e) {
            throw new StoreException("reading queued message " + id, e);
        }
    }

    /** How many messages are in each state (every state present, zero included). */
    public Map<MessageState, Long> counts() {
        return counts(null);
    }

    /** As {@link #counts()}, of one subaccount's messages only (null: every message). */
    public Map<MessageState, Long> counts(Long subaccountId) {
        Map<MessageState, Long> out = new EnumMap<>(MessageState.class);
        for (MessageState s : MessageState.values()) {
            out.put(s, 0L);
        }
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM queue_messages"
                        + (subaccountId == null ? "" : " WHERE subaccount_id = ?") + " GROUP BY state")) {
            if (subaccountId != null) {
                ps.setLong(1, subaccountId);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    MessageState s = MessageState.of(rs.getString(1));
                    if (s != null) {
                        out.put(s, rs.getLong(2));
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("counting the queue", e);
        }
    }

    /** When the oldest message still waiting for delivery (queued, active or deferred) was accepted; empty if none. */
    public Optional<Instant> oldestPending() {
        return oldestPending(null);
    }

    /** As {@link #oldestPending()}, among one subaccount's messages (null: every message). */
    public Optional<Instant> oldestPending(Long subaccountId) {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT MIN(created_at) FROM queue_messages"
                        + " WHERE state IN ('queued', 'active', 'deferred')"
                        + (subaccountId == null ? "" : " AND subaccount_id = ?"))) {
            if (subaccountId != null) {
                ps.setLong(1, subaccountId);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.ofNullable(JdbcQueueStore.time(rs, 1));
            }
        } catch (SQLException e) {
            throw new StoreException("reading the queue's oldest message", e);
        }
    }

    /**
     * Tries the message again now: a queued or deferred one becomes due at once; a failed one gets its failed
     * recipients back as pending and is deferred, due now. Held and active messages are left as they are.
     */
    public Change retry(String id, Actor actor) {
        return change(id, actor, RETRIED, (c, state, now) -> {
            if (state == MessageState.FAILED) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE queue_recipients SET state = 'pending',"
                        + " updated_at = ? WHERE message_id = ? AND state = 'failed'")) {
                    JdbcQueueStore.setTime(ps, 1, now);
                    ps.setString(2, id);
                    ps.executeUpdate();
                }
                return setState(c, id, MessageState.DEFERRED, now);
            }
            return (state == MessageState.QUEUED || state == MessageState.DEFERRED) && setState(c, id, state, now);
        });
    }

    /** Makes every deferred message due now ({@code postqueue -f}); returns how many. Audited as one event. */
    public int retryAll(Actor actor) {
        Instant now = clock.instant();
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET next_attempt = ?, updated_at = ?"
                    + " WHERE state = 'deferred'")) {
                JdbcQueueStore.setTime(ps, 1, now);
                JdbcQueueStore.setTime(ps, 2, now);
                n = ps.executeUpdate();
            }
            audit(c, now, actor, RETRIED, null, null, "all deferred messages (" + n + ")");
            c.commit();
            log.info("queue: {} deferred messages due now (retry all) by {}", n, actor);
            if (n > 0) {
                wake.run();
            }
            return n;
        } catch (SQLException e) {
            throw new StoreException("retrying the deferred messages", e);
        }
    }

    /** Keeps a queued or deferred message back from delivery until {@link #release}. */
    public Change hold(String id, Actor actor) {
        return change(id, actor, HELD, (c, state, now) ->
                (state == MessageState.QUEUED || state == MessageState.DEFERRED)
                        && setState(c, id, MessageState.HELD, now));
    }

    /** Lets a held message go: due now, as deferred if it was tried before, else as queued. */
    public Change release(String id, Actor actor) {
        return change(id, actor, RELEASED, (c, state, now) -> {
            if (state != MessageState.HELD) {
                return false;
            }
            int attempts;
            try (PreparedStatement ps = c.prepareStatement("SELECT attempts FROM queue_messages WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    attempts = rs.getInt(1);
                }
            }
            return setState(c, id, attempts > 0 ? MessageState.DEFERRED : MessageState.QUEUED, now);
        });
    }

    /**
     * Removes a message and its body for good, in any state. One being delivered right now may still reach the
     * downstream (its body is read as it is sent), but its outcome is not recorded and it is never tried again.
     */
    public Change delete(String id, Actor actor) {
        return change(id, actor, DELETED, (c, state, now) -> {
            JdbcQueueStore.delete(c, id);
            return true;
        });
    }

    @FunctionalInterface
    private interface Mutation {
        boolean apply(Connection c, MessageState state, Instant now) throws SQLException;
    }

    private Change change(String id, Actor actor, String action, Mutation m) {
        if (!QueueId.isValid(id)) {
            return Change.NOT_FOUND;
        }
        Instant now = clock.instant();
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                MessageState state;
                String keyId;
                String shortKey;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT state, key_id, short_key FROM queue_messages WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            return Change.NOT_FOUND;
                        }
                        state = MessageState.of(rs.getString(1));
                        keyId = rs.getString(2);
                        shortKey = rs.getString(3);
                    }
                }
                if (!m.apply(c, state, now)) {
                    c.rollback();
                    return Change.NOT_APPLICABLE;
                }
                audit(c, now, actor, action, keyId, shortKey, "message " + id + " (was " + state.wireName() + ")");
                c.commit();
                log.info("queue: {} message {} (was {}) key {} by {}{}", action, id, state.wireName(), keyId, actor,
                        actor.clientAddress() == null ? "" : " from " + actor.clientAddress());
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException(action + " " + id, e);
        }
        if (!action.equals(HELD) && !action.equals(DELETED)) {
            wake.run();
        }
        return Change.CHANGED;
    }

    private static boolean setState(Connection c, String id, MessageState s, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET state = ?, next_attempt = ?,"
                + " updated_at = ? WHERE id = ?")) {
            ps.setString(1, s.wireName());
            // A held message is never due (V13): the claim's index range ends before the end of time.
            JdbcQueueStore.setTime(ps, 2, s == MessageState.HELD || s == MessageState.FAILED ? JdbcQueueStore.NEVER : now);
            JdbcQueueStore.setTime(ps, 3, now);
            ps.setString(4, id);
            return ps.executeUpdate() == 1;
        }
    }

    static void audit(Connection c, Instant now, Actor actor, String action, String keyId, String shortKey,
            String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (occurred_at, actor, action, key_id,"
                + " short_key, client_address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            JdbcQueueStore.setTime(ps, 1, now);
            ps.setString(2, actor.name());
            ps.setString(3, action);
            ps.setString(4, keyId);
            ps.setString(5, shortKey);
            ps.setString(6, actor.clientAddress());
            ps.setString(7, detail);
            ps.executeUpdate();
        }
    }

    private static QueuedMessage message(ResultSet rs, List<Envelope.Recipient> envRcpts,
            List<QueuedMessage.RecipientStatus> rcpts, List<QueuedMessage.Attempt> attempts) throws SQLException {
        Envelope env = new Envelope(rs.getString(3), new MailParams(rs.getLong(4), rs.getString(5), rs.getBoolean(6),
                rs.getString(7), rs.getString(8)),
                rs.getString(7), rs.getString(8), envRcpts);
        Origin origin = new Origin(rs.getString(9), rs.getString(10), JdbcQueueStore.getLong(rs, 11), rs.getString(12),
                rs.getString(13));
        return new QueuedMessage(rs.getString(1), MessageState.of(rs.getString(2)), env, origin, rs.getLong(14),
                rs.getInt(15), JdbcQueueStore.time(rs, 16), rs.getString(17), rs.getString(18),
                JdbcQueueStore.time(rs, 19), JdbcQueueStore.time(rs, 20), rcpts, attempts);
    }
}
