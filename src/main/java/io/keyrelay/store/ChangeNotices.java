package io.keyrelay.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.postgresql.PGConnection;

/**
 * The one PostgreSQL channel on which keyrelay's nodes tell each other that something changed in the store:
 * {@value #CHANNEL}, with a payload {@code <topic> <details>} (topics: {@code key}, {@code queue}, {@code domain}). A
 * notice is sent inside the transaction that makes the change, so it reaches the other nodes when, and only when,
 * the change is committed; {@link ChangeListener} receives it. NOTIFY is not replayed to a node that was not
 * listening, so every topic also keeps a durable record that a listener reads after each (re)connect, and polls
 * (on H2, which has no NOTIFY, polling is all there is).
 */
public final class ChangeNotices {
    /** The channel every node listens on. */
    public static final String CHANNEL = "keyrelay_changes";
    /** PostgreSQL's limit on a payload is 8000 bytes; keyrelay's are far shorter, and must stay so. */
    static final int MAX_PAYLOAD = 7999;

    private ChangeNotices() {}

    /**
     * Queues the notice {@code topic details} on {@code c}'s transaction, when {@code c} is a PostgreSQL connection;
     * does nothing on other databases.
     */
    public static void send(Connection c, String topic, String details) throws SQLException {
        if (!c.isWrapperFor(PGConnection.class)) {
            return;
        }
        String payload = topic + " " + details;
        if (payload.length() > MAX_PAYLOAD || topic.indexOf(' ') >= 0) {
            throw new IllegalArgumentException("change notice too long or topic with a space: " + topic);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, CHANNEL);
            ps.setString(2, payload);
            ps.execute();
        }
    }
}
