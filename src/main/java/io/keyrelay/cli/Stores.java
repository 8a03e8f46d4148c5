package io.keyrelay.cli;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyService;
import io.keyrelay.store.Database;
import java.time.Clock;

/** The store and key service, built from the configuration; used by every command that touches keys. */
final class Stores implements AutoCloseable {
    final Database database;
    final JdbcKeyStore keyStore;
    final KeyHasher hasher;
    final KeyService keyService;

    private Stores(Database database, RelayConfig config, Clock clock) {
        this.database = database;
        this.keyStore = new JdbcKeyStore(database.dataSource());
        this.hasher = KeyHasher.hmacSha256(config.keys().pepper());
        this.keyService = new KeyService(keyStore, hasher, new KeyGenerator(), clock);
    }

    /** Opens the database, checks that it answers, and brings the schema up to date. */
    static Stores open(RelayConfig config) {
        Database db = Database.open(config.db(), config.dataDir());
        try {
            db.check();
            db.migrate();
            return new Stores(db, config, Clock.systemUTC());
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    @Override
    public void close() {
        database.close();
    }
}
