package io.keyrelay.cli;

import io.keyrelay.config.ConfigException;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.domains.DkimKeyring;
import io.keyrelay.domains.DnsTxtLookup;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.JdbcDomainStore;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.domains.MasterKeyFile;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyService;
import io.keyrelay.queue.JdbcQueueStore;
import io.keyrelay.queue.QueueService;
import io.keyrelay.store.Database;
import java.io.IOException;
import java.time.Clock;

/**
 * The store, the key service, the sending-domain service and the queue's admin service, built from the
 * configuration; used by every command that touches keys, domains or the queue.
 */
final class Stores implements AutoCloseable {
    final Database database;
    final JdbcKeyStore keyStore;
    final KeyHasher hasher;
    final KeyService keyService;
    final DomainService domains;
    /** No workers here: a message made due now is picked up by a running relay's workers at their next poll. */
    final QueueService queue;

    private Stores(Database database, RelayConfig config, Clock clock) {
        this.database = database;
        this.keyStore = new JdbcKeyStore(database.dataSource());
        this.hasher = KeyHasher.hmacSha256(config.keys().pepper());
        this.keyService = new KeyService(keyStore, hasher, new KeyGenerator(), clock);
        RelayConfig.SendingDomains d = config.domains();
        this.domains = new DomainService(new JdbcDomainStore(database.dataSource()),
                new DkimKeyring(masterKey(config), clock), DnsTxtLookup.using(d.dnsServers(), d.dnsTimeout()), clock);
        this.queue = new QueueService(new JdbcQueueStore(database.dataSource()), clock, () -> { });
    }

    /**
     * {@code dkim.master_key}, else the one {@code keyrelay dev} keeps in {@code data_dir} (so CLI commands work
     * against a dev store as they are); null when neither is there.
     */
    private static MasterKey masterKey(RelayConfig config) {
        if (config.domains().masterKey() != null) {
            return MasterKey.parse(config.domains().masterKey());
        }
        try {
            return MasterKeyFile.read(MasterKeyFile.in(config.dataDir())).map(MasterKey::parse).orElse(null);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(DkimKeyring.MASTER_KEY_SETTING, "is not set, and "
                    + MasterKeyFile.in(config.dataDir()) + " cannot be used: " + e.getMessage());
        }
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
