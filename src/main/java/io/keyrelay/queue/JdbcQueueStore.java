package io.keyrelay.queue;

import io.keyrelay.relay.MailParams;
import io.keyrelay.store.ChangeNotices;
import io.keyrelay.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The queue's tables (V6): a message goes in with everything about it in one transaction, workers claim due
 * messages with {@code SELECT … FOR UPDATE SKIP LOCKED} under a lease, and each attempt's outcome is recorded in
 * one transaction. The same SQL runs on PostgreSQL and H2.
 *
 * <p>Every change of a claimed message checks that the claim is still this worker's ({@code lease_owner}): a worker
 * that stalled past its lease, and whose message another node has taken since, records nothing.
 */
public final class JdbcQueueStore {
    /** Largest body chunk: pgjdbc reads a {@code bytea} value whole, so this bounds the heap a read needs. */
    static final int CHUNK = 256 * 1024;
    private static final int TEXT_MAX = 1000;
    /** The change-notice topic ({@link ChangeNotices}) of a message committed to the queue; the details are its id. */
    public static final String TOPIC = "queue";
    /**
     * The {@code next_attempt} of a held or failed message: never due. With it, {@code next_attempt <= now} alone
     * means "may be claimed", and the claim reads the head of one index (V13) whatever the backlog.
     */
    static final Instant NEVER = Instant.parse("9999-12-31T00:00:00Z");
    /** How many due messages one claim looks at: enough that concurrent workers rarely all want the same few. */
    private static final int CANDIDATES = 16;
    /** How often a claim reads the head of the index again when every candidate was taken meanwhile. */
    private static final int CLAIM_ROUNDS = 8;

    /** A claim made as a message is stored: the node that accepted it delivers it, from its own copy. */
    record Lease(String owner, Instant until) {}

    private final DataSource ds;

    public JdbcQueueStore(DataSource ds) {
        this.ds = ds;
    }

    DataSource dataSource() {
        return ds;
    }

    /**
     * Stores a message in one transaction: the envelope, the origin, each recipient, then the body read from
     * {@code body} in chunks (memory bounded by one chunk). Returns the stored size. On any failure — reading the
     * client's stream included — it is rolled back and nothing of it is visible; the exception propagates.
     */
    public long insert(String id, Envelope env, Origin origin, Instant now, InputStream body) throws IOException {
        return insert(id, env, origin, now, body, -1, null);
    }

    /**
     * {@link #insert(String, Envelope, Origin, Instant, InputStream)} with the body's {@code size} known in advance
     * ({@code -1}: not known; a body of another length is an {@link IOException} and nothing is stored) and, when
     * {@code lease} is given, the message stored already claimed by {@code lease.owner()} — active, first attempt
     * charged — for the accepting node to deliver from its own copy: no claim, no re-read, no notice to the other
     * nodes. If that node dies first, the lease runs out and any node delivers it, as after any lost claim.
     */
    long insert(String id, Envelope env, Origin origin, Instant now, InputStream body, long size, Lease lease)
            throws IOException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                long stored = insertOn(c, id, env, origin, now, body, size, lease);
                if (lease == null) {
                    ChangeNotices.send(c, TOPIC, id); // PostgreSQL: the other nodes' idle workers hear of it at commit
                }
                c.commit();
                return stored;
            } catch (SQLException | IOException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("queueing message " + id, e);
        }
    }

    /** Writes a whole message inside the caller's transaction; returns its size. */
    private static long insertOn(Connection c, String id, Envelope env, Origin origin, Instant now, InputStream body,
            long knownSize, Lease lease) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_MESSAGE)) {
            bindMessage(ps, id, env, origin, now, knownSize, lease);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_RECIPIENT)) {
            bindRecipients(ps, id, env, now);
            ps.executeBatch();
        }
        long size = writeBody(c, id, body);
        if (knownSize < 0) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET size = ? WHERE id = ?")) {
                ps.setLong(1, size);
                ps.setString(2, id);
                ps.executeUpdate();
            }
        } else if (size != knownSize) {
            throw new IOException("message " + id + ": " + size + " bytes read, " + knownSize + " expected");
        }
        return size;
    }

    private static final String INSERT_MESSAGE = "INSERT INTO queue_messages (id, state, sender, declared_size,"
            + " body_type, smtputf8, dsn_ret, dsn_envid, key_id, short_key, subaccount_id, client_address, node, size,"
            + " attempts, next_attempt, created_at, updated_at, lease_owner, lease_until)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_RECIPIENT = "INSERT INTO queue_recipients (message_id, seq, address, state,"
            + " dsn_notify, dsn_orcpt, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_CHUNK = "INSERT INTO queue_bodies (message_id, seq, chunk) VALUES (?, ?, ?)";
    /** Ids per change notice of a group commit: a PostgreSQL payload holds at most 8000 bytes. */
    private static final int IDS_PER_NOTICE = 150;

    private static void bindMessage(PreparedStatement ps, String id, Envelope env, Origin origin, Instant now,
            long size, Lease lease) throws SQLException {
        ps.setString(1, id);
        ps.setString(2, (lease == null ? MessageState.QUEUED : MessageState.ACTIVE).wireName());
        ps.setString(3, env.sender());
        ps.setLong(4, env.params().declaredSize());
        ps.setString(5, env.params().body());
        ps.setBoolean(6, env.params().smtpUtf8());
        ps.setString(7, env.dsnRet());
        ps.setString(8, env.dsnEnvid());
        ps.setString(9, origin.keyId());
        ps.setString(10, origin.shortKey());
        setLong(ps, 11, origin.subaccountId());
        ps.setString(12, origin.clientAddress());
        ps.setString(13, origin.node());
        ps.setLong(14, Math.max(size, 0));
        ps.setInt(15, lease == null ? 0 : 1);
        setTime(ps, 16, lease == null ? now : lease.until());
        setTime(ps, 17, now);
        setTime(ps, 18, now);
        ps.setString(19, lease == null ? null : lease.owner());
        setTime(ps, 20, lease == null ? null : lease.until());
    }

    /** Adds one batch entry per recipient of {@code env}, numbered from 0. */
    private static void bindRecipients(PreparedStatement ps, String id, Envelope env, Instant now)
            throws SQLException {
        int seq = 0;
        for (Envelope.Recipient r : env.recipients()) {
            ps.setString(1, id);
            ps.setInt(2, seq++);
            ps.setString(3, r.address());
            ps.setString(4, RecipientState.PENDING.wireName());
            ps.setString(5, r.dsnNotify());
            ps.setString(6, r.dsnOrcpt());
            setTime(ps, 7, now);
            ps.addBatch();
        }
    }

    /**
     * One write of the hot path, for {@link #writeAll}: a new small message ({@link Incoming}) or a delivered one to
     * remove ({@link Done}). Both kinds share the group commits: a session's message and a worker's removal go in the
     * same transaction, one flush for both.
     */
    sealed interface Write permits Incoming, Done {
        /** The message this write is about. */
        String id();
    }

    /** A message small enough to be stored whole from memory (one chunk). Its result is its size ({@code Long}). */
    record Incoming(String id, Envelope envelope, Origin origin, Instant now, byte[] bytes, Lease lease)
            implements Write {
        Incoming {
            if (bytes.length > CHUNK) {
                throw new IllegalArgumentException("message " + id + ": " + bytes.length + " bytes, more than a chunk");
            }
        }
    }

    /**
     * A claim whose first attempt delivered every recipient: the message is to go, if the claim is still
     * {@code owner}'s. Its result is whether it went ({@code Boolean}; false: the claim was lost, or an operator
     * deleted the message).
     */
    record Done(String id, String owner) implements Write {}

    /**
     * Whether {@code outcome} of {@code claim} leaves nothing to keep: a first attempt (every recipient was pending)
     * that delivered every recipient, with no report owed. Such a message is removed with a {@link Done}.
     */
    static boolean allDelivered(Claim claim, Outcome outcome, List<Bounces.NewMessage> reports) {
        return claim.attempt() == 1 && reports.isEmpty() && outcome.results().size() == claim.recipients().size()
                && outcome.count(Outcome.Kind.DELIVERED) == claim.recipients().size();
    }

    private static final String DELETE_DELIVERED =
            "DELETE FROM queue_messages WHERE id = ? AND lease_owner = ? AND state = 'active'";

    /**
     * Writes several {@link Write}s in one transaction (group commit, {@link GroupCommit}): the new messages each as
     * {@link #insert} would, with one statement batch per table; the delivered ones each removed by one statement
     * (recipients, body and attempts go by the foreign keys' cascade); one commit. Returns each write's result, in
     * order.
     */
    List<Object> writeAll(List<Write> batch) {
        List<Incoming> incoming = new ArrayList<>();
        List<Done> done = new ArrayList<>();
        for (Write w : batch) {
            switch (w) {
                case Incoming m -> incoming.add(m);
                case Done d -> done.add(d);
            }
        }
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!incoming.isEmpty()) {
                    insertAllOn(c, incoming);
                }
                int[] removed = new int[0];
                if (!done.isEmpty()) {
                    try (PreparedStatement ps = c.prepareStatement(DELETE_DELIVERED)) {
                        for (Done d : done) {
                            ps.setString(1, d.id());
                            ps.setString(2, d.owner());
                            ps.addBatch();
                        }
                        removed = ps.executeBatch();
                    }
                }
                c.commit();
                List<Object> out = new ArrayList<>(batch.size());
                int k = 0;
                for (Write w : batch) {
                    out.add(switch (w) {
                        case Incoming m -> (Object) (long) m.bytes().length;
                        case Done d -> removed[k++] != 0; // 1, or SUCCESS_NO_INFO from a driver that does not count
                    });
                }
                return out;
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("queueing " + incoming.size() + " messages and recording " + done.size()
                    + " deliveries", e);
        }
    }

    private static void insertAllOn(Connection c, List<Incoming> batch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_MESSAGE)) {
            for (Incoming m : batch) {
                bindMessage(ps, m.id(), m.envelope(), m.origin(), m.now(), m.bytes().length, m.lease());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_RECIPIENT)) {
            for (Incoming m : batch) {
                bindRecipients(ps, m.id(), m.envelope(), m.now());
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_CHUNK)) {
            for (Incoming m : batch) {
                ps.setString(1, m.id());
                ps.setInt(2, 0);
                ps.setBytes(3, m.bytes());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        List<String> unclaimed = batch.stream().filter(m -> m.lease() == null).map(Incoming::id).toList();
        for (int i = 0; i < unclaimed.size(); i += IDS_PER_NOTICE) {
            ChangeNotices.send(c, TOPIC,
                    String.join(" ", unclaimed.subList(i, Math.min(unclaimed.size(), i + IDS_PER_NOTICE))));
        }
    }

    /** One {@link Write} in a transaction of its own: {@link #writeAll}'s fallback. */
    Object write(Write w) throws IOException {
        return switch (w) {
            case Incoming m -> insert(m.id(), m.envelope(), m.origin(), m.now(),
                    new java.io.ByteArrayInputStream(m.bytes()), m.bytes().length, m.lease());
            case Done d -> update(DELETE_DELIVERED, "recording the delivery of " + d.id(), ps -> {
                ps.setString(1, d.id());
                ps.setString(2, d.owner());
            }) == 1;
        };
    }

    /** The body, chunk by chunk, inside the caller's transaction: nothing of it is visible before the commit. */
    private static long writeBody(Connection c, String id, InputStream body) throws SQLException, IOException {
        byte[] buf = new byte[CHUNK];
        long size = 0;
        int seq = 0;
        try (PreparedStatement ps = c.prepareStatement(INSERT_CHUNK)) {
            while (true) {
                int n = body.readNBytes(buf, 0, CHUNK);
                if (n == 0 && seq > 0) {
                    break;
                }
                ps.setString(1, id);
                ps.setInt(2, seq++);
                ps.setBytes(3, n == CHUNK ? buf : java.util.Arrays.copyOf(buf, n));
                ps.executeUpdate(); // one at a time, not batched: a batch would hold every chunk in memory
                size += n;
                if (n < CHUNK) {
                    break;
                }
            }
        }
        return size;
    }

    /**
     * Claims the oldest due message that no other worker holds: queued, deferred, or active under a lease that has
     * run out. It becomes active, leased to {@code owner} until {@code now + lease}, with one more attempt.
     *
     * <p>Two steps, the same on both stores: an unlocked read of the first {@value #CANDIDATES} due ids in the order
     * of the {@code (next_attempt, id)} index, then {@code SELECT … FOR UPDATE SKIP LOCKED} of each by its key, due
     * condition repeated, oldest id first (UUIDv7: the time of acceptance), until one is ours. Oldest first, not
     * earliest due: a message accepted during an outage is on the schedule's first, shortest wait while older ones
     * are on longer ones, and ordering by the due time delivered the youngest of a backlog first once the downstream
     * was back (QueueDownstreamOutageIT). A single {@code ORDER BY … FOR UPDATE SKIP LOCKED} query would do on
     * PostgreSQL, but H2 reads and sorts every matching row for it (the index's order is not used once rows are
     * locked): a claim would cost as much as the backlog is long.
     */
    public Optional<Claim> claim(String owner, Instant now, Duration lease) {
        return claim(owner, now, lease, () -> {});
    }

    /**
     * {@link #claim(String, Instant, Duration)}, calling {@code noneDue} when it returns empty because nothing at all
     * was due (not because every due message was taken by other workers meanwhile).
     */
    Optional<Claim> claim(String owner, Instant now, Duration lease, Runnable noneDue) {
        try (Connection c = ds.getConnection()) {
            for (int round = 0; round < CLAIM_ROUNDS; round++) {
                c.setAutoCommit(true);
                List<String> due = due(c, now);
                if (due.isEmpty()) {
                    if (round == 0) {
                        noneDue.run();
                    }
                    return Optional.empty();
                }
                c.setAutoCommit(false);
                try {
                    for (String id : due.stream().sorted().toList()) {
                        Boolean lost = lock(c, id, now);
                        if (lost != null) {
                            Instant until = now.plus(lease);
                            try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET state = 'active',"
                                    + " lease_owner = ?, lease_until = ?, next_attempt = ?, attempts = attempts + 1,"
                                    + " updated_at = ? WHERE id = ?")) {
                                ps.setString(1, owner);
                                setTime(ps, 2, until);
                                setTime(ps, 3, until);
                                setTime(ps, 4, now);
                                ps.setString(5, id);
                                ps.executeUpdate();
                            }
                            Claim claim = readClaim(c, id, until, lost);
                            c.commit();
                            return Optional.of(claim);
                        }
                    }
                    c.rollback();
                } catch (SQLException | RuntimeException e) {
                    rollback(c, e);
                    throw e;
                }
                if (due.size() < CANDIDATES) {
                    return Optional.empty(); // every due message is someone else's now
                }
            }
            return Optional.empty(); // the head of the queue keeps being taken: the next look finds more
        } catch (SQLException e) {
            throw new StoreException("claiming a queued message", e);
        }
    }

    /** The first due ids, oldest due first: read without locks, each is locked (or skipped) by {@link #lock}. */
    private static List<String> due(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM queue_messages WHERE next_attempt <= ?"
                + " ORDER BY next_attempt, id FETCH FIRST " + CANDIDATES + " ROWS ONLY")) {
            setTime(ps, 1, now);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> ids = new ArrayList<>(CANDIDATES);
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
                return ids;
            }
        }
    }

    /**
     * Locks message {@code id} if it is still due and no one else holds it: null if not; else whether it was active
     * (its previous claim ran out without an outcome).
     */
    private static Boolean lock(Connection c, String id, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT state FROM queue_messages WHERE id = ?"
                + " AND next_attempt <= ? AND state IN ('queued', 'deferred', 'active') FOR UPDATE SKIP LOCKED")) {
            ps.setString(1, id);
            setTime(ps, 2, now);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? MessageState.ACTIVE.wireName().equals(rs.getString(1)) : null;
            }
        }
    }

    private static Claim readClaim(Connection c, String id, Instant until, boolean lost) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sender, declared_size, body_type, smtputf8, dsn_ret,"
                + " dsn_envid, key_id, short_key, subaccount_id, client_address, node, attempts, created_at, size,"
                + " delay_warned FROM queue_messages WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                List<Claim.Pending> pending = new ArrayList<>();
                List<Envelope.Recipient> all = new ArrayList<>();
                try (PreparedStatement rp = c.prepareStatement("SELECT seq, address, dsn_notify, dsn_orcpt FROM"
                        + " queue_recipients WHERE message_id = ? AND state = 'pending' ORDER BY seq")) {
                    rp.setString(1, id);
                    try (ResultSet r = rp.executeQuery()) {
                        while (r.next()) {
                            Envelope.Recipient rcpt = new Envelope.Recipient(r.getString(2), r.getString(3),
                                    r.getString(4));
                            pending.add(new Claim.Pending(r.getInt(1), rcpt));
                            all.add(rcpt);
                        }
                    }
                }
                Envelope env = new Envelope(rs.getString(1), new MailParams(rs.getLong(2), rs.getString(3),
                        rs.getBoolean(4), rs.getString(5), rs.getString(6)), rs.getString(5), rs.getString(6), all);
                Origin origin = new Origin(rs.getString(7), rs.getString(8), getLong(rs, 9), rs.getString(10),
                        rs.getString(11));
                return new Claim(id, env, origin, pending, rs.getInt(12), time(rs, 13), until, rs.getLong(14), lost,
                        rs.getBoolean(15));
            }
        }
    }

    /** The stored body of a message, read chunk by chunk (one short read per chunk, no connection held between). */
    public InputStream body(String id, long size) {
        return new ChunkedBody(ds, id, size);
    }

    /**
     * Records an attempt's outcome if {@code claim} is still {@code owner}'s, in one transaction: each recipient's
     * state and reply, the attempt, and then the message — deferred until {@code outcome.nextAttempt()} while any
     * recipient is pending, failed when all are settled and one failed, gone when all were delivered. Returns false
     * (and changes nothing) when the claim was lost: the lease ran out and another worker took it, or an operator
     * deleted the message. The {@code reports} (bounces and delay warnings this attempt owes) are queued in the same
     * transaction, so an outcome is never recorded without its report, nor a report sent twice.
     */
    public boolean settle(Claim claim, String owner, Outcome outcome, List<Bounces.NewMessage> reports,
            boolean delayWarned) {
        if (allDelivered(claim, outcome, reports)) {
            try {
                return (Boolean) write(new Done(claim.id(), owner));
            } catch (IOException e) { // cannot happen: a removal reads no stream
                throw new StoreException("recording the delivery of " + claim.id() + ": " + e.getMessage(), e);
            }
        }
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!stillOwned(c, claim.id(), owner)) {
                    c.rollback();
                    return false;
                }
                Instant now = outcome.finishedAt();
                try (PreparedStatement settled = c.prepareStatement("UPDATE queue_recipients SET state = ?,"
                        + " last_reply = ?, updated_at = ? WHERE message_id = ? AND seq = ?")) {
                    for (Outcome.Result r : outcome.results()) {
                        RecipientState s = switch (r.kind()) {
                            case DELIVERED -> RecipientState.DELIVERED;
                            case FAILED -> RecipientState.FAILED;
                            case DEFERRED -> RecipientState.PENDING;
                        };
                        settled.setString(1, s.wireName());
                        settled.setString(2, clip(r.reply()));
                        setTime(settled, 3, now);
                        settled.setString(4, claim.id());
                        settled.setInt(5, r.seq());
                        settled.addBatch();
                    }
                    settled.executeBatch();
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO queue_attempts (message_id, attempt, node,"
                        + " started_at, finished_at, delivered, failed, deferred, summary)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setString(1, claim.id());
                    ps.setInt(2, claim.attempt());
                    ps.setString(3, owner);
                    setTime(ps, 4, outcome.startedAt());
                    setTime(ps, 5, now);
                    ps.setInt(6, (int) outcome.count(Outcome.Kind.DELIVERED));
                    ps.setInt(7, (int) outcome.count(Outcome.Kind.FAILED));
                    ps.setInt(8, (int) outcome.count(Outcome.Kind.DEFERRED));
                    ps.setString(9, clip(outcome.summary()));
                    ps.executeUpdate();
                }
                for (Bounces.NewMessage r : reports) {
                    insertOn(c, r.id(), r.envelope(), r.origin(), now, new java.io.ByteArrayInputStream(r.bytes()),
                            r.bytes().length, null);
                    ChangeNotices.send(c, TOPIC, r.id());
                }
                int pending = count(c, claim.id(), RecipientState.PENDING);
                int failed = count(c, claim.id(), RecipientState.FAILED);
                if (pending == 0 && failed == 0) {
                    delete(c, claim.id());
                } else {
                    MessageState next = pending > 0 ? MessageState.DEFERRED : MessageState.FAILED;
                    try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET state = ?,"
                            + " next_attempt = ?, lease_owner = NULL, lease_until = NULL, last_reply = ?, updated_at = ?,"
                            + " delay_warned = ? WHERE id = ?")) {
                        ps.setString(1, next.wireName());
                        setTime(ps, 2, pending > 0 ? outcome.nextAttempt() : NEVER);
                        ps.setString(3, clip(outcome.summary()));
                        setTime(ps, 4, now);
                        ps.setBoolean(5, claim.delayWarned() || delayWarned);
                        ps.setString(6, claim.id());
                        ps.executeUpdate();
                    }
                }
                c.commit();
                return true;
            } catch (SQLException | IOException | RuntimeException e) {
                rollback(c, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("recording the delivery of " + claim.id(), e);
        } catch (IOException e) { // cannot happen: a report is queued from memory
            throw new StoreException("recording the delivery of " + claim.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Gives a claim back unfinished (graceful shutdown): the message is due again at once, for any node, and the
     * attempt it was charged is returned. False if the claim was no longer {@code owner}'s.
     */
    public boolean unclaim(String id, String owner, Instant now) {
        String back = "CASE WHEN attempts > 1 THEN 'deferred' ELSE 'queued' END";
        return update("UPDATE queue_messages SET state = " + back + ", attempts = attempts - 1, lease_owner = NULL,"
                + " lease_until = NULL, next_attempt = ?, updated_at = ? WHERE id = ? AND lease_owner = ?"
                + " AND state = 'active'", "releasing " + id, ps -> {
                    setTime(ps, 1, now);
                    setTime(ps, 2, now);
                    ps.setString(3, id);
                    ps.setString(4, owner);
                }) == 1;
    }

    /**
     * Makes due now the claims that earlier processes of node {@code node} left active — it was killed or crashed
     * with messages claimed, handed over or under way — instead of letting them wait out their lease: lease owners
     * are {@code <node>/<pid>/<random>}, and a node's name is its own in the cluster. They stay active, so the
     * claim that takes them flags each as a possible duplicate, as after any lease that ran out. Returns how many.
     */
    public int takeBackEarlierClaims(String node, String owner, Instant now) {
        String prefix = node.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%";
        return update("UPDATE queue_messages SET next_attempt = ? WHERE state = 'active' AND lease_owner LIKE ?"
                + " ESCAPE '\\' AND lease_owner <> ? AND next_attempt > ?", "taking back the claims of " + node, ps -> {
                    setTime(ps, 1, now);
                    ps.setString(2, prefix);
                    ps.setString(3, owner);
                    setTime(ps, 4, now);
                });
    }

    private static boolean stillOwned(Connection c, String id, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT lease_owner FROM queue_messages WHERE id = ? AND state = 'active' FOR UPDATE")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && owner.equals(rs.getString(1));
            }
        }
    }

    private static int count(Connection c, String id, RecipientState s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*) FROM queue_recipients WHERE message_id = ? AND state = ?")) {
            ps.setString(1, id);
            ps.setString(2, s.wireName());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    static void delete(Connection c, String id) throws SQLException {
        // Children first: one statement each rather than relying on the cascade's row-at-a-time work on H2.
        for (String table : new String[] {"queue_bodies", "queue_recipients", "queue_attempts"}) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE message_id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM queue_messages WHERE id = ?")) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }

    /** A statement's parameters, set by the caller. */
    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    int update(String sql, String operation, Binder binder) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(operation, e);
        }
    }

    static String clip(String s) {
        return s == null || s.length() <= TEXT_MAX ? s : s.substring(0, TEXT_MAX - 1) + "…";
    }

    /**
     * Times are stored truncated to microseconds, the precision of both stores: PostgreSQL and H2 would otherwise
     * <em>round</em> them, and a message due "now" would be stored as due up to half a microsecond from now.
     */
    static void setTime(PreparedStatement ps, int col, Instant t) throws SQLException {
        if (t == null) {
            ps.setObject(col, null);
        } else {
            ps.setObject(col, t.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC));
        }
    }

    static Instant time(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    static void setLong(PreparedStatement ps, int col, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(col, java.sql.Types.BIGINT);
        } else {
            ps.setLong(col, v);
        }
    }

    static Long getLong(ResultSet rs, int col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
