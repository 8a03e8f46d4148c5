package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.store.Database;
import io.keyrelay.store.StoreException;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CommitCheck} on a real store: a message whose commit "failed" (the exception PostgreSQL's fast shutdown
 * gives) but which the store holds is found, with its size; one it does not hold is not; and no look is taken when
 * the pool never had a connection. The restart itself, where the reply to a COMMIT is really lost, is
 * {@link QueueStoreRestartIT}.
 */
class CommitCheckIT {
    @TempDir
    Path dir;

    private static StoreException terminated(String id) {
        return new StoreException("queueing message " + id,
                new SQLException("FATAL: terminating connection due to administrator command", "57P01"));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aMessageTheStoreHolds_isFound_oneItDoesNotIsNot(Kind kind) {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            String held = new QueueFixture(d.dataSource(), Clock.systemUTC()).queue("a@example.com",
                    List.of("r@example.net"), null, null, null, Instant.now());
            long size = new QueueService(new JdbcQueueStore(d.dataSource()), Clock.systemUTC(), () -> { }).get(held)
                    .orElseThrow().size();
            assertThat(CommitCheck.committedAnyway(d.dataSource(), held, terminated(held))).hasValue(size);
            String absent = new QueueId(Clock.systemUTC()).next();
            assertThat(CommitCheck.committedAnyway(d.dataSource(), absent, terminated(absent))).isEmpty();
            // The pool gave no connection: nothing reached the store, and even a held id is not looked up.
            assertThat(CommitCheck.committedAnyway(d.dataSource(), held, new StoreException("queueing message " + held,
                    new SQLTransientConnectionException("Connection is not available")))).isEmpty();
        }
    }
}
