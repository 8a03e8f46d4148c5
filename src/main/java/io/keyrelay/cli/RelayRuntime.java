package io.keyrelay.cli;

import com.github.benmanes.caffeine.cache.Ticker;
import io.keyrelay.admin.AdminContext;
import io.keyrelay.admin.AdminServer;
import io.keyrelay.admin.SmtpEndpoint;
import io.keyrelay.admin.Readiness;
import io.keyrelay.admin.ServerMetrics;
import io.keyrelay.cluster.Redis;
import io.keyrelay.cluster.RedisAuthFailures;
import io.keyrelay.config.ConfigException;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.dkim.DkimSigner;
import io.keyrelay.domains.DkimKeyring;
import io.keyrelay.domains.DomainDirectory;
import io.keyrelay.domains.SenderPolicy;
import io.keyrelay.domains.DnsTxtLookup;
import io.keyrelay.domains.DomainRechecker;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.JdbcDomainStore;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.domains.MasterKeyFile;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.keys.AuditQueue;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.keys.KeyChangePoller;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyLookup;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.UsageRecorder;
import io.keyrelay.limits.MessageLimiter;
import io.keyrelay.limits.RedisMessageCounters;
import io.keyrelay.queue.DurableQueue;
import io.keyrelay.queue.QueuePurge;
import io.keyrelay.relay.CaptureDownstream;
import io.keyrelay.relay.Downstream;
import io.keyrelay.relay.SmtpDownstream;
import io.keyrelay.smtp.AuthThrottle;
import io.keyrelay.smtp.RelayMetrics;
import io.keyrelay.smtp.SmtpContext;
import io.keyrelay.smtp.SmtpListeners;
import io.keyrelay.store.ChangeListener;
import io.keyrelay.store.Database;
import io.keyrelay.tls.ServerTls;
import io.keyrelay.tls.TlsContexts;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running relay: builds every part from the configuration with plain constructors (the one place where the
 * object graph is wired), starts them in order, and closes them in reverse. {@code serve}, {@code dev} and the
 * integration tests all run the relay through this class.
 */
public final class RelayRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RelayRuntime.class);
    /** How often this process looks for key changes made elsewhere. */
    static final Duration CHANGE_POLL = Duration.ofMillis(500);
    /** How often it looks anyway while change notifications arrive (they carry the changes then). */
    static final Duration SAFETY_POLL = Duration.ofSeconds(10);
    static final Duration USAGE_FLUSH = Duration.ofMinutes(1);
    /** How often the SMTP path's copy of the sending domains is read again, for changes made by other processes. */
    static final Duration DOMAIN_REFRESH = Duration.ofSeconds(2);

    private final RelayConfig config;
    private final Deque<AutoCloseable> closers = new ArrayDeque<>();
    private final Database database;
    private final JdbcKeyStore keyStore;
    private final KeyService keyService;
    private final KeyLookup keyLookup;
    private final KeyAuthenticator authenticator;
    private final DomainService domains;
    private final DomainDirectory directory;
    private final UsageRecorder usage;
    private final AuditQueue audit;
    private final MessageLimiter limiter;
    private final PrometheusMeterRegistry registry;
    private final RelayMetrics metrics;
    private final Downstream downstream;
    /** Queue mode only (null in passthrough mode). */
    private final DurableQueue queue;
    private final QueuePurge queuePurge;
    private final SmtpListeners smtp;
    private final AdminServer admin;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final ChangeListener changes;
    private final Redis redis;

    /**
     * Starts the relay. {@code captureFolder} is used when no downstream host is configured (dev mode); it may be
     * null otherwise.
     */
    public RelayRuntime(RelayConfig config, Path captureFolder) {
        this(config, captureFolder, Clock.systemUTC());
    }

    /**
     * Starts the relay with the given clock for everything it decides about time (key expiry, message limits,
     * audit timestamps): tests move it instead of sleeping.
     */
    public RelayRuntime(RelayConfig config, Path captureFolder, Clock clock) {
        this.config = config;
        try {
            database = push(Database.open(config.db(), config.dataDir()));
            database.check();
            database.migrate();
            keyStore = new JdbcKeyStore(database.dataSource());
            KeyHasher hasher = KeyHasher.hmacSha256(config.keys().pepper());
            keyService = new KeyService(keyStore, hasher, new KeyGenerator(), clock);
            domains = domainService(config, database, clock);
            push(new DomainRechecker(domains, config.domains().recheck()).start());
            keyLookup = new KeyLookup(keyStore, config.cache(), Ticker.systemTicker(),
                    Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("key-refresh-", 0).factory()));
            keyService.onChange(keyLookup::invalidate);
            KeyChangePoller poller = push(new KeyChangePoller(keyStore, keyLookup::invalidate));
            keyService.onChangeNotice(poller::seen);
            // PostgreSQL tells every node of a change at commit (LISTEN/NOTIFY); polling backs it up, and is all
            // there is on H2.
            changes = database.embedded() || !config.db().url().startsWith("jdbc:postgresql:") ? null
                    : new ChangeListener(config.db(), config.cluster().nodeName())
                            .subscribe(KeyChangePoller.TOPIC, poller::notified)
                            .onConnect(poller::catchUp);
            if (changes == null) {
                poller.start(CHANGE_POLL);
            } else {
                poller.start(CHANGE_POLL, SAFETY_POLL, changes::connected);
                push(changes.start());
            }
            usage = push(new UsageRecorder(keyStore).start(USAGE_FLUSH));
            authenticator = new KeyAuthenticator(hasher, keyLookup, clock, usage);
            audit = push(new AuditQueue(keyStore, config.audit().queueSize(), clock).start());
            // Redis, when configured, shares the per-key rates and the AUTH-failure counts across the nodes; while
            // it is away each node counts on its own.
            redis = config.cluster().redis().configured() ? push(Redis.start(config.cluster().redis())) : null;
            limiter = new MessageLimiter(config.limits(), config.smtp(), clock, config.cache().maxSize(),
                    redis == null ? null : new RedisMessageCounters(redis));
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // Before any meter: a common tag applies only to meters registered after it.
            registry.config().commonTags("node", config.cluster().nodeName());
            metrics = new RelayMetrics(registry);
            metrics.watch(audit);
            downstream = push(config.downstream().configured() ? smtpDownstream(config)
                    : new CaptureDownstream(captureFolder, clock));
            // Before the listeners, so it closes after them: the workers stop, then the downstream and the store.
            queue = config.queue().enabled() ? push(DurableQueue.start(database.dataSource(), downstream,
                    config.queue(), config.smtp().shutdownGrace(), clock, config.cluster().nodeName(), registry,
                    config.dataDir().resolve("spool"), config.smtp().hostname(), config.downstream().host())) : null;
            if (queue != null) { // a queue on PostgreSQL without vacuum bloats and slows (docs/queue.md)
                io.keyrelay.queue.VacuumCheck.warning(database.dataSource()).ifPresent(log::warn);
            }
            // Failed messages past queue.failed_retention go; safe on every node at once (docs/queue.md).
            queuePurge = queue == null ? null : push(new QueuePurge(database.dataSource(),
                    config.queue().failedRetention(), clock, registry).start());
            if (queue != null && changes != null) { // a message another node committed wakes one idle worker here
                changes.subscribe(io.keyrelay.queue.JdbcQueueStore.TOPIC, ids -> { // one id, or several of a group commit
                    for (int i = 0, n = ids.split(" ").length; i < Math.min(n, config.queue().workers()); i++) {
                        queue.workers().wakeOne();
                    }
                });
            }
            ServerTls serverTls = config.smtp().tls().enabled()
                    ? push(serverTls(config.smtp().tls()).watch(config.smtp().tlsReloadInterval())) : null;
            SSLContext tls = serverTls == null ? null : serverTls.context();
            // One throttle for SMTP AUTH and the admin API/console: the same keys can be guessed on either.
            RedisAuthFailures sharedBans = redis == null ? null : new RedisAuthFailures(redis,
                    AuthThrottle.onThisNode(config.authLimits(), clock), clock);
            AuthThrottle throttle = sharedBans == null ? new AuthThrottle(config.authLimits(), clock, Thread::sleep)
                    : new AuthThrottle(config.authLimits(), clock, Thread::sleep, sharedBans);
            DkimSigner signer = DkimSigner.preferred(clock);
            directory = push(new DomainDirectory(domains, signer));
            if (changes == null) {
                directory.start(DOMAIN_REFRESH);
            } else { // a domain changed elsewhere reloads here at commit; polling backs the notices up
                changes.subscribe(JdbcDomainStore.TOPIC, directory::notified).onConnect(directory::catchUp);
                directory.start(DOMAIN_REFRESH, SAFETY_POLL, changes::connected);
                directory.catchUp(); // a change committed between the first read and the subscription
            }
            RelayConfig.SendingDomains sd = config.domains();
            SenderPolicy senders = new SenderPolicy(directory, signer,
                    sd.require(), sd.checkEnvelope(), sd.signUnverified(),
                    config.dataDir().resolve("spool"));
            smtp = push(new SmtpListeners(new SmtpContext(config.smtp(), authenticator, throttle, downstream, metrics, clock, draining, limiter,
                    audit, config.cluster().nodeName(), queue == null ? null : queue.intake(), senders),
                    tls).start());
            push(ServerMetrics.bind(registry, database.hikari(), keyLookup));
            if (changes != null) {
                metrics.watch(changes);
            }
            if (redis != null) {
                metrics.watch(redis);
                metrics.watch(sharedBans);
            }
            if (serverTls != null) {
                Gauge.builder("keyrelay.tls.certificate.expiry", serverTls,
                                t -> t.certificate().getNotAfter().toInstant().getEpochSecond())
                        .baseUnit("seconds").description("When the served TLS certificate expires (Unix time)")
                        .register(registry);
            }
            admin = config.admin().enabled() ? push(new AdminServer(config.admin(), new AdminContext(keyService,
                    authenticator, registry, Readiness.allOf(List.of(
                            Readiness.check("key store unreachable", keyStore::ping),
                            Readiness.check("SMTP not listening", smtp::listening),
                            Readiness.note("Redis unreachable: limits and AUTH failures counted on this node",
                                    () -> redis == null || redis.up()),
                            Readiness.note("change notifications down: polling for key and domain changes",
                                    () -> changes == null || changes.connected()))), clock, throttle,
                    limiter::limitsFor, new SmtpEndpoint(config.smtp().hostname(), smtp.port(), tls != null,
                            smtp.implicitTlsPort(), config.smtp().auth().usernames()), domains)
                    .withQueue(queue == null ? null : queue.service()), tls).start())
                    : null;
            int perKey = config.limits().sessionsPerKey();
            if (queue == null && config.downstream().configured() && (perKey == 0 || perKey >= config.downstream().poolSize())) {
                log.warn("limits.sessions_per_key is {} and downstream.pool_size {}: one key's sessions can hold every"
                        + " downstream connection (docs/abuse.md)", perKey == 0 ? "unlimited" : perKey,
                        config.downstream().poolSize());
            }
            log.info("keyrelay node {} {} to {}; key store: {}", config.cluster().nodeName(), queue == null
                            ? "relaying (passthrough)" : "queueing, delivering with " + config.queue().workers()
                            + " workers", downstream.describe(),
                    database.embedded() ? "embedded H2 in " + config.dataDir() : io.keyrelay.config.Secrets.maskUrl(database.url()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The sending-domain service. Refuses to start, naming {@code dkim.master_key}, when the store holds domains and
     * no master key is set, or when the one set does not open their DKIM keys (another key was configured before):
     * such a relay could sign nothing, and would find out only at the first message.
     */
    static DomainService domainService(RelayConfig config, Database database, Clock clock) {
        JdbcDomainStore store = new JdbcDomainStore(database.dataSource());
        String configured = config.domains().masterKey();
        DkimKeyring keyring = new DkimKeyring(configured == null ? null : MasterKey.parse(configured), clock);
        List<SendingDomain> all = store.list();
        if (!keyring.configured() && all.stream().anyMatch(d -> !d.keys().isEmpty())) {
            throw new ConfigException(DkimKeyring.MASTER_KEY_SETTING, "is required: the store holds " + all.size()
                    + " sending domain(s) whose DKIM private keys are sealed under it (set it to the key used when"
                    + " they were created; keyrelay dev keeps its own in data_dir/" + MasterKeyFile.NAME + ")");
        }
        all.stream().flatMap(d -> d.keys().stream()).findFirst().ifPresent(k -> {
            try {
                keyring.privateKey(k);
            } catch (MasterKey.WrongKeyException e) {
                throw new ConfigException(DkimKeyring.MASTER_KEY_SETTING, "does not open the DKIM key of "
                        + k.recordName() + ": " + e.getMessage());
            }
        });
        RelayConfig.SendingDomains c = config.domains();
        return new DomainService(store, keyring, DnsTxtLookup.using(c.dnsServers(), c.dnsTimeout()), clock);
    }

    private static ServerTls serverTls(RelayConfig.Tls tls) {
        try {
            return ServerTls.load(tls.cert(), tls.key());
        } catch (TlsContexts.TlsMaterialException e) {
            throw new ConfigException(Setting.SMTP_TLS_CERT.key(), e.getMessage());
        }
    }

    private static SmtpDownstream smtpDownstream(RelayConfig config) {
        try {
            return new SmtpDownstream(config.downstream(), config.smtp().hostname());
        } catch (TlsContexts.TlsMaterialException e) {
            throw new ConfigException(Setting.DOWNSTREAM_CA_FILE.key(), e.getMessage());
        }
    }

    private <T extends AutoCloseable> T push(T c) {
        closers.push(c);
        return c;
    }

    public RelayConfig config() {
        return config;
    }

    public KeyService keyService() {
        return keyService;
    }

    /** The SMTP path's in-memory copy of the sending domains. */
    public DomainDirectory domainDirectory() {
        return directory;
    }

    public DomainService domains() {
        return domains;
    }

    public KeyLookup keyLookup() {
        return keyLookup;
    }

    public KeyAuthenticator authenticator() {
        return authenticator;
    }

    /** Last-use times waiting to be written (tests flush it instead of waiting a minute). */
    public UsageRecorder usageRecorder() {
        return usage;
    }

    public AuditQueue audit() {
        return audit;
    }

    public MessageLimiter limiter() {
        return limiter;
    }

    public JdbcKeyStore keyStore() {
        return keyStore;
    }

    public Database database() {
        return database;
    }

    /** The shared Redis; null when {@code cluster.redis.url} is not set. */
    public Redis redis() {
        return redis;
    }

    /** This node's listener for change notifications; null on H2, which has none. */
    public ChangeListener changeListener() {
        return changes;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public RelayMetrics metrics() {
        return metrics;
    }

    public Downstream downstream() {
        return downstream;
    }

    /** The queue in queue mode; null in passthrough mode. */
    public DurableQueue queue() {
        return queue;
    }

    /** The purge of old failed messages; null in passthrough mode. */
    public QueuePurge queuePurge() {
        return queuePurge;
    }

    public int smtpPort() {
        return smtp.port();
    }

    public int implicitTlsPort() {
        return smtp.implicitTlsPort();
    }

    /** The admin server's port, or 0 when it is off ({@code admin.port: 0}). */
    public int adminPort() {
        return admin == null ? 0 : admin.port();
    }

    public boolean smtpListening() {
        return smtp.listening();
    }

    /**
     * The graceful shutdown (SIGTERM): stops accepting SMTP connections, answers {@code 421 4.3.2} to idle
     * sessions, lets the mail transactions under way finish within {@code smtp.shutdown_grace}, then closes
     * everything — the downstream pool after the sessions that use it. In queue mode the delivery workers stop
     * claiming at once, finish their deliveries within the same grace, and give back what did not finish. Returns
     * true if every session finished within the grace.
     */
    public boolean drainAndClose() {
        draining.set(true);
        if (queue != null) {
            queue.workers().stopClaiming(); // the deliveries under way share the grace with the sessions
        }
        boolean clean;
        try {
            clean = smtp.drain(config.smtp().shutdownGrace());
        } finally {
            close();
        }
        return clean;
    }

    @Override
    public void close() {
        draining.set(true);
        while (!closers.isEmpty()) {
            AutoCloseable c = closers.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("error while stopping {}: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
