package io.keyrelay.testing;

import io.keyrelay.config.RelayConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * Fresh, isolated key stores for tests: an H2 file in a temporary directory, or a new database on the real
 * PostgreSQL that {@code scripts/test} provides (system property {@code keyrelay.test.pg.url}, default
 * {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}). An unreachable PostgreSQL fails the test:
 * the PostgreSQL half of the suite is never skipped silently.
 */
public final class TestDatabases {
    private TestDatabases() {}

    /** Which store a parameterised test runs against. */
    public enum Kind { H2, POSTGRES }

    /** A database made for one test class; {@link #close()} drops it. */
    public record TestDb(Kind kind, RelayConfig.Db db, Path dataDir, String dropName) implements AutoCloseable {
        @Override
        public void close() {
            if (dropName != null) {
                try (Connection c = adminConnection(); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + dropName + " WITH (FORCE)");
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot drop test database " + dropName, e);
                }
            }
        }

        /** The same store, as KEYRELAY_* environment variables for a CLI or server process. */
        public java.util.Map<String, String> env() {
            java.util.Map<String, String> m = new java.util.HashMap<>();
            m.put("KEYRELAY_DATA_DIR", dataDir.toString());
            if (db.url() != null) {
                m.put("KEYRELAY_DB_URL", db.url());
                m.put("KEYRELAY_DB_USER", db.user());
            }
            return m;
        }
    }

    public static TestDb create(Kind kind, Path dataDir) {
        return kind == Kind.H2 ? h2(dataDir) : postgres(dataDir);
    }

    public static TestDb h2(Path dataDir) {
        return new TestDb(Kind.H2, new RelayConfig.Db(null, "", "", 4), dataDir, null);
    }

    public static TestDb postgres(Path dataDir) {
        String name = "kr_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        try (Connection c = adminConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL is not reachable at " + adminUrl()
                    + " (run the tests with scripts/test, which provides one): " + e.getMessage(), e);
        }
        String url = withDatabase(adminUrl(), name);
        return new TestDb(Kind.POSTGRES, new RelayConfig.Db(url, user(), "", 4), dataDir, name);
    }

    static Connection adminConnection() throws SQLException {
        return DriverManager.getConnection(adminUrl(), user(), "");
    }

    /**
     * Terminates every backend of {@code db} whose {@code application_name} is {@code applicationName} (as a failover
     * or a network cut would end a node's connection).
     */
    public static void terminateBackends(TestDb db, String applicationName) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(adminUrl(), "postgres", "");
                java.sql.PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM"
                        + " pg_stat_activity WHERE application_name = ? AND datname = ?")) {
            ps.setString(1, applicationName);
            ps.setString(2, db.dropName());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // one row per backend terminated
                }
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String adminUrl() {
        String u = System.getProperty("keyrelay.test.pg.url", "");
        return u.isBlank() ? "jdbc:postgresql://127.0.0.1:5432/postgres" : u;
    }

    static String user() {
        String u = System.getProperty("keyrelay.test.pg.user", "");
        return u.isBlank() ? "postgres" : u;
    }

    /** Replaces the database name in a jdbc:postgresql://host:port/db?params URL. */
    static String withDatabase(String url, String db) {
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        String params = q < 0 ? "" : url.substring(q);
        int slash = base.lastIndexOf('/');
        return base.substring(0, slash + 1) + db + params;
    }
}
