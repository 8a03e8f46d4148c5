package io.keyrelay.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.keyrelay.config.RelayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The key store's connection pool (HikariCP) and schema (Flyway): PostgreSQL when {@code db.url} is a
 * {@code jdbc:postgresql:} URL, else an embedded H2 file under {@code data_dir}.
 *
 * <p>The H2 file is opened with {@code AUTO_SERVER=TRUE}: the first process to open it serves it over a
 * loopback TCP port recorded in the lock file, so {@code keyrelay keys …} can change keys while the relay runs. Its
 * directory and files are private to keyrelay's user and its password is random per install
 * ({@link EmbeddedStore}).
 */
public final class Database implements AutoCloseable {
    static {
        // Before any H2 class loads (it reads the property once): the embedded store's AUTO_SERVER listens on
        // loopback only, not on every interface. An operator's own -Dh2.bindAddress wins.
        if (System.getProperty("h2.bindAddress") == null) {
            System.setProperty("h2.bindAddress", "127.0.0.1");
        }
    }

    /** How long a caller waits for a pooled connection before the store counts as unreachable. */
    private static final long CONNECTION_TIMEOUT_MS = 3_000;
    /**
     * How long start-up waits for the embedded store to open. Opening H2's file is local work, not a network round
     * trip: after a crash (or on a busy machine) it can take longer than a pooled wait, and that is slowness to sit
     * out, not an outage to report.
     */
    private static final long EMBEDDED_OPEN_WAIT_MS = 30_000;

    private final HikariDataSource dataSource;
    private final String url;
    private final boolean embedded;
    private final Path dataDir;

    private Database(HikariDataSource dataSource, String url, boolean embedded, Path dataDir) {
        this.dataSource = dataSource;
        this.url = url;
        this.embedded = embedded;
        this.dataDir = dataDir;
    }

    /**
     * Opens the pool. Does not wait for the database: a store that is down at start surfaces on first use
     * (or in {@link #migrate()}), with the cause.
     */
    public static Database open(RelayConfig.Db db, Path dataDir) {
        boolean embedded = db.url() == null;
        String url = embedded ? embeddedUrl(dataDir) : db.url();
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("keyrelay-db");
        hc.setJdbcUrl(url);
        if (!db.user().isEmpty()) {
            hc.setUsername(db.user());
        } else if (embedded) {
            hc.setUsername(EmbeddedStore.USER);
        }
        if (!db.password().isEmpty()) {
            hc.setPassword(db.password());
        } else if (embedded && db.user().isEmpty()) {
            hc.setPassword(EmbeddedStore.password(dataDir, url)); // never H2's default empty one
        }
        hc.setMaximumPoolSize(db.poolSize());
        hc.setMinimumIdle(Math.min(2, db.poolSize()));
        hc.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        hc.setValidationTimeout(Math.min(2_000, CONNECTION_TIMEOUT_MS - 500));
        hc.setInitializationFailTimeout(-1); // start without the database; report on use
        hc.setAutoCommit(true);
        return new Database(new HikariDataSource(hc), url, embedded, dataDir);
    }

    static String embeddedUrl(Path dataDir) {
        return EmbeddedStore.prepare(dataDir);
    }

    /** Brings the schema up to date; safe to run from several processes at once (Flyway locks). */
    public MigrateResult migrate() {
        if (embedded) {
            awaitEmbeddedOpen();
        }
        try {
            return Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .loggers("slf4j")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            throw new StoreException("cannot migrate the key store at " + url + ": " + rootMessage(e), e);
        }
    }

    private void awaitEmbeddedOpen() {
        long deadline = System.nanoTime() + EMBEDDED_OPEN_WAIT_MS * 1_000_000;
        while (true) {
            try (var c = dataSource.getConnection()) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() - deadline > 0) {
                    return; // Flyway reports the cause
                }
            }
        }
    }

    /** Checks that a connection can be had, with the cause when it cannot. */
    public void check() {
        if (embedded) {
            awaitEmbeddedOpen(); // start-up calls check() before migrate(): the same patience here
        }
        try (var c = dataSource.getConnection()) {
            c.isValid(2);
        } catch (SQLException | HikariPool.PoolInitializationException e) {
            throw new StoreException("cannot connect to the key store at " + url + ": " + rootMessage(e), e);
        }
        if (embedded) {
            EmbeddedStore.narrowFiles(dataDir); // H2 has made its files by now (with the umask's permissions)
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public HikariDataSource hikari() {
        return dataSource;
    }

    /** The JDBC URL in use (it carries no password: credentials are separate settings). */
    public String url() {
        return url;
    }

    public boolean embedded() {
        return embedded;
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
