package io.keyrelay.queue;

import io.keyrelay.store.StoreException;
import io.keyrelay.text.LogText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.OptionalLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a message whose commit failed is in the store after all. PostgreSQL can commit a transaction and lose the
 * connection before the client hears so — a fast shutdown or a restart ends every session with {@code 57P01
 * terminating connection due to administrator command}, and one of them may be the answer to a COMMIT it had
 * already made durable. Answering {@code 451} then would be wrong: the message is delivered, and the client sends it
 * again. So before the 451, the store is asked whether it holds the message (the queue id is new, so only this
 * transaction can have written it), again and again while it cannot answer, for at most {@link #WAIT}.
 *
 * <p>Not when the pool could not even give a connection: nothing was sent, so nothing was committed.
 */
final class CommitCheck {
    private static final Logger log = LoggerFactory.getLogger(CommitCheck.class);
    /** How long to wait for the store to answer; well inside the client's wait for the reply to DATA. */
    static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration PAUSE = Duration.ofMillis(250);

    private CommitCheck() {}

    /**
     * The stored size of {@code id} if it was committed although {@code failure} said otherwise; empty when the
     * store says it holds no such message, or cannot say within {@link #WAIT}.
     */
    static OptionalLong committedAnyway(DataSource ds, String id, StoreException failure) {
        if (failure.getCause() instanceof SQLTransientConnectionException) {
            return OptionalLong.empty(); // no connection was had: the insert never reached the store
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps = c.prepareStatement("SELECT size FROM queue_messages WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        log.warn("queue: id={} was committed although the store's reply was lost ({}); it is queued",
                                id, LogText.quote(failure.getMessage()));
                        return OptionalLong.of(rs.getLong(1));
                    }
                    return OptionalLong.empty();
                }
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    log.error("queue: id={} may have been committed, but the store did not say within {}: the client"
                            + " is answered 451 and may send it again, and it may be delivered twice", id,
                            io.keyrelay.config.Durations.format(WAIT));
                    return OptionalLong.empty();
                }
            }
            try {
                Thread.sleep(PAUSE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return OptionalLong.empty();
            }
        }
    }
}
