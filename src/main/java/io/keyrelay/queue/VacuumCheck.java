package io.keyrelay.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Whether PostgreSQL will vacuum the queue's tables. Every delivered message leaves its rows behind as dead tuples
 * (and dead entries in every index) until a {@code VACUUM}; with autovacuum off they are never reclaimed, the head
 * of the due index fills with entries a claim must step over, and the queue slows down round after round (profile
 * Q on a server with {@code autovacuum = off}: 64,000 dead rows under 97 live ones after 64,000 messages, and the
 * rate fell by a third from the first round to the third). keyrelay does not change the server's settings; it says
 * so at start, once, naming what to do.
 */
public final class VacuumCheck {
    /** The tables whose rows every message adds and removes. */
    static final List<String> TABLES = List.of("queue_messages", "queue_recipients", "queue_bodies", "queue_attempts");

    private VacuumCheck() {
    }

    /**
     * The warning to log, if any: autovacuum off on the server, or turned off for some of the queue's tables.
     * Empty when all is well, and on a store that is not PostgreSQL. A failure to ask is not a warning: the start
     * goes on, and the store's own errors surface where they belong.
     */
    public static Optional<String> warning(DataSource ds) {
        try (Connection c = ds.getConnection()) {
            if (!c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
                return Optional.empty();
            }
            boolean serverOff;
            try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('autovacuum')");
                    ResultSet rs = ps.executeQuery()) {
                serverOff = rs.next() && rs.getString(1).equals("off");
            }
            List<String> tablesOff = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT c.relname FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                    + " AND c.relname = ANY (?) AND 'autovacuum_enabled=false' = ANY (c.reloptions) ORDER BY c.relname")) {
                ps.setArray(1, c.createArrayOf("text", TABLES.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tablesOff.add(rs.getString(1));
                    }
                }
            }
            if (!serverOff && tablesOff.isEmpty()) {
                return Optional.empty();
            }
            String which = serverOff ? "PostgreSQL has autovacuum off" : "";
            if (!tablesOff.isEmpty()) {
                which += (serverOff ? ", and " : "") + "autovacuum_enabled is false for " + String.join(", ", tablesOff);
            }
            return Optional.of(which + ": the queue's tables keep the dead rows of every delivered message until a"
                    + " VACUUM, and the queue slows down as they grow; turn autovacuum on"
                    + (tablesOff.isEmpty() ? "" : " (ALTER TABLE … RESET (autovacuum_enabled))")
                    + ", or run VACUUM on " + String.join(", ", TABLES) + " regularly (docs/queue.md)");
        } catch (SQLException e) {
            return Optional.empty();
        }
    }
}
