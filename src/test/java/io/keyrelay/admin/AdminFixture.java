package io.keyrelay.admin;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.domains.DkimKeyring;
import io.keyrelay.domains.DnsTxtLookup;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.JdbcDomainStore;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyAuthenticator;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyLookup;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.smtp.AuthThrottle;
import io.keyrelay.store.Database;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.TestDatabases;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real admin server on an ephemeral loopback port over a real key store (H2 file or PostgreSQL), with the
 * real key service, cache and authenticator, a Prometheus registry, a clock the test moves, and a readiness
 * answer the test sets. Closing it stops the server and drops the database.
 */
final class AdminFixture implements AutoCloseable {
    final TestDatabases.TestDb testDb;
    final Database database;
    final KeyService keys;
    final KeyLookup lookup;
    final KeyAuthenticator authenticator;
    final DomainService domains;
    final io.keyrelay.queue.QueueService queue;
    final MasterKey masterKey = MasterKey.generate();
    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    final MutableClock clock = MutableClock.startingNow();
    final AtomicReference<Optional<String>> notReady = new AtomicReference<>(Optional.empty());
    final ServerMetrics serverMetrics;
    final AdminServer server;
    HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    private AdminFixture(TestDatabases.Kind kind, Path dir, RelayConfig.Admin config, RelayConfig.AuthLimits limits) {
        this(kind, dir, config, limits, null);
    }

    /** {@code dns} answers sending-domain verifications (null: a port where nothing answers). */
    private AdminFixture(TestDatabases.Kind kind, Path dir, RelayConfig.Admin config, RelayConfig.AuthLimits limits,
            DnsTxtLookup dns) {
        testDb = TestDatabases.create(kind, dir);
        database = Database.open(testDb.db(), testDb.dataDir());
        database.migrate();
        JdbcKeyStore store = new JdbcKeyStore(database.dataSource());
        keys = new KeyService(store, KeyHasher.sha256(), new KeyGenerator(), clock);
        lookup = new KeyLookup(store, new RelayConfig.Cache(1000, Duration.ofMinutes(10), Duration.ofSeconds(30),
                Duration.ofSeconds(30)), System::nanoTime, ForkJoinPool.commonPool());
        keys.onChange(lookup::invalidate);
        authenticator = new KeyAuthenticator(KeyHasher.sha256(), lookup, clock, null);
        serverMetrics = ServerMetrics.bind(registry, database.hikari(), lookup);
        domains = new DomainService(new JdbcDomainStore(database.dataSource()), new DkimKeyring(masterKey, clock),
                dns == null ? DnsTxtLookup.using(List.of(new java.net.InetSocketAddress("127.0.0.1", 9)),
                        Duration.ofMillis(200)) : dns, clock);
        queue = new io.keyrelay.queue.QueueService(new io.keyrelay.queue.JdbcQueueStore(database.dataSource()), clock,
                () -> { });
        AdminContext ctx = new AdminContext(keys, authenticator, registry, notReady::get, clock,
                limits == null ? null : new AuthThrottle(limits, clock, Thread::sleep), DEFAULT_LIMITS, null, domains,
                queue);
        server = AdminServer.onPort(config, ctx, 0).start();
    }

    private static final java.util.function.Function<io.keyrelay.keys.ApiKey, io.keyrelay.limits.SendingLimits>
            DEFAULT_LIMITS = defaultLimits();

    private static java.util.function.Function<io.keyrelay.keys.ApiKey, io.keyrelay.limits.SendingLimits> defaultLimits() {
        RelayConfig defaults = io.keyrelay.config.ConfigLoader.build(
                new io.keyrelay.config.ConfigLoader.Raw(java.util.Map.of(), List.of()));
        return k -> io.keyrelay.limits.SendingLimits.of(k.limits(), defaults.limits(), defaults.smtp());
    }

    static AdminFixture start(TestDatabases.Kind kind, Path dir) {
        return new AdminFixture(kind, dir, defaultConfig(), null);
    }

    /** With sending-domain verification asking {@code dns}. */
    static AdminFixture withDns(TestDatabases.Kind kind, Path dir, DnsTxtLookup dns) {
        return new AdminFixture(kind, dir, defaultConfig(), null, dns);
    }

    /** With this admin configuration (its port is ignored: the server takes an ephemeral one). */
    static AdminFixture start(TestDatabases.Kind kind, Path dir, RelayConfig.Admin config) {
        return new AdminFixture(kind, dir, config, null);
    }

    /** With failed authentications throttled per address under these limits (on the fixture's clock). */
    static AdminFixture throttled(TestDatabases.Kind kind, Path dir, RelayConfig.AuthLimits limits) {
        return new AdminFixture(kind, dir, defaultConfig(), limits);
    }

    private static RelayConfig.Admin defaultConfig() {
        return new RelayConfig.Admin(InetAddress.getLoopbackAddress(), 8080, Duration.ofMinutes(30), null);
    }

    /** Creates a key directly through the service (as the CLI would). */
    CreatedKey key(String label, Grant... grants) {
        return keys.create(new KeySpec(label, EnumSet.copyOf(List.of(grants)), IpAllowlist.ANY, null, null), Actor.CLI);
    }

    CreatedKey key(KeySpec spec) {
        return keys.create(spec, Actor.CLI);
    }

    URI uri(String path) {
        return server.baseUri().resolve(path);
    }

    HttpRequest.Builder request(String path, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b;
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(request.method() + " " + request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    HttpResponse<String> get(String path, String authorization) {
        return send(request(path, authorization).GET().build());
    }

    HttpResponse<String> json(String method, String path, String authorization, String body) {
        return send(request(path, authorization).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            serverMetrics.close();
            database.close();
            testDb.close();
        }
    }
}
