package io.keyrelay.keys;

import com.github.benmanes.caffeine.cache.Ticker;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The AUTH decision on a cache hit, as SMTP AUTH makes it: hash the presented key (SHA-256), find it in the key cache
 * (Caffeine), check revocation, expiry, the {@code smtp/inject} grant and the client address against an allowlist,
 * note the use. One thread: the rate is per core. The key lives in a real embedded store (H2), so a cache miss would
 * show as a database read; {@link #tearDown()} fails the run if any measured call read the store.
 *
 * <p>Run: {@code mvn -Pjmh test-compile exec:exec} (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class AuthDecisionBenchmark {
    private Path dir;
    private Database database;
    private UsageRecorder usage;
    private KeyAuthenticator authenticator;
    private KeyLookup lookup;
    private KeyHasher hasher;
    private String secret;
    private String hash;
    private InetAddress client;
    private long readsAfterWarmup;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("keyrelay-jmh");
        RelayConfig config = ConfigLoader.build(new ConfigLoader.Raw(Map.of(Setting.DATA_DIR, dir.toString()), List.of()));
        database = Database.open(config.db(), config.dataDir());
        database.migrate();
        JdbcKeyStore store = new JdbcKeyStore(database.dataSource());
        hasher = KeyHasher.sha256();
        KeyService service = new KeyService(store, hasher, new KeyGenerator(), Clock.systemUTC());
        secret = service.create(new KeySpec("jmh", EnumSet.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("10.0.0.0/8, 127.0.0.0/8, 2001:db8::/32"), null, null), Actor.SYSTEM).secret();
        hash = hasher.hash(secret);
        lookup = new KeyLookup(store, config.cache(), Ticker.systemTicker(),
                Executors.newThreadPerTaskExecutor(Thread.ofVirtual().factory()));
        usage = new UsageRecorder(store);
        authenticator = new KeyAuthenticator(hasher, lookup, Clock.systemUTC(), usage);
        client = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
        if (!(authenticator.authenticate(secret, client, Grant.SMTP_INJECT) instanceof AuthDecision.Accepted)) {
            throw new IllegalStateException("the benchmark key is not accepted");
        }
        readsAfterWarmup = lookup.storeReads();
    }

    /** The whole decision: SHA-256 of the key, cache hit, rule checks, usage noted. */
    @Benchmark
    public AuthDecision authenticateWarm() {
        return authenticator.authenticate(secret, client, Grant.SMTP_INJECT);
    }

    /** The cache hit alone, from a known hash. */
    @Benchmark
    public AuthDecision authenticateHashWarm() {
        return authenticator.authenticateHash(hash, client, Grant.SMTP_INJECT);
    }

    /** The hash alone. */
    @Benchmark
    public String hashOnly() {
        return hasher.hash(secret);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        long reads = lookup.storeReads() - readsAfterWarmup;
        usage.close();
        database.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        if (reads != 0) {
            throw new IllegalStateException("warm AUTH decisions read the key store " + reads + " times");
        }
    }
}
