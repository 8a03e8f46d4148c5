package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VacuumCheck} on real stores: nothing to say on H2; on PostgreSQL the server's own {@code autovacuum}
 * setting (read here, as the server reports it: machines differ) and a queue table with {@code autovacuum_enabled =
 * false} are each named, and a table set back is no longer.
 */
class VacuumCheckIT {
    @TempDir
    Path dir;

    @Test
    void h2_hasNothingToSay() {
        try (TestDatabases.TestDb db = TestDatabases.create(Kind.H2, dir); Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            assertThat(VacuumCheck.warning(d.dataSource())).isEmpty();
        }
    }

    @Test
    void postgres_namesTheServerSettingAndEachTableWithAutovacuumOff() throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(Kind.POSTGRES, dir);
                Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            boolean serverOff;
            try (Connection c = d.dataSource().getConnection(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SHOW autovacuum")) {
                rs.next();
                serverOff = rs.getString(1).equals("off");
            }
            if (serverOff) {
                assertThat(VacuumCheck.warning(d.dataSource())).hasValueSatisfying(w -> assertThat(w)
                        .startsWith("PostgreSQL has autovacuum off").doesNotContain("autovacuum_enabled"));
            } else {
                assertThat(VacuumCheck.warning(d.dataSource())).isEmpty();
            }

            exec(d, "ALTER TABLE queue_bodies SET (autovacuum_enabled = false)");
            assertThat(VacuumCheck.warning(d.dataSource())).hasValueSatisfying(w -> assertThat(w)
                    .contains("autovacuum_enabled is false for queue_bodies")
                    .contains("VACUUM on queue_messages, queue_recipients")
                    .satisfies(x -> assertThat(x.substring(0, x.indexOf(':'))).doesNotContain("queue_messages")));

            exec(d, "ALTER TABLE queue_bodies RESET (autovacuum_enabled)");
            assertThat(VacuumCheck.warning(d.dataSource()).orElse("")).doesNotContain("autovacuum_enabled");
        }
    }

    private static void exec(Database d, String sql) throws Exception {
        try (Connection c = d.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
