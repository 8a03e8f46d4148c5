package io.keyrelay.cli;

import io.keyrelay.config.Secrets;
import io.keyrelay.store.Database;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code keyrelay db …}: database maintenance. */
@Command(name = "db", description = "Database maintenance.", subcommands = DbCommand.Migrate.class)
final class DbCommand {

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Create or upgrade the key store's schema. serve, dev and keys do this by themselves too.")
    static final class Migrate extends ConfigOption implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (Database db = Database.open(config().db(), config().dataDir())) {
                db.check();
                MigrateResult r = db.migrate();
                String version = r.targetSchemaVersion != null ? r.targetSchemaVersion
                        : (r.initialSchemaVersion != null ? r.initialSchemaVersion : "none");
                spec.commandLine().getOut().printf("Schema at version %s (%d migration%s applied) in %s%n", version,
                        r.migrationsExecuted, r.migrationsExecuted == 1 ? "" : "s", Secrets.maskUrl(db.url()));
                return 0;
            }
        }
    }
}
