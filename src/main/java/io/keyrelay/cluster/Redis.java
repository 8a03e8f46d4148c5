package io.keyrelay.cluster;

import io.keyrelay.config.ConfigException;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.config.Secrets;
import io.keyrelay.text.LogText;
import io.keyrelay.tls.TlsContexts;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StaticCredentialsProvider;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis that the nodes of a cluster share counters in ({@code cluster.redis.url}), and whether it can be used
 * now. One Lettuce connection, which multiplexes every session's commands; each command waits at most
 * {@code cluster.redis.timeout}.
 *
 * <p>Redis is a convenience, never a condition for relaying mail: the first command that fails or times out marks it
 * <em>down</em> (one warning in the log), and from then on {@link #call} answers null at once without trying, so
 * callers count on this node instead ({@link #fallbacks()} counts how often). A probe checks every second with
 * PING, and the first that answers marks it up again (one line in the log). While it is down, a command that
 * Lettuce cannot send is refused at once rather than queued ({@code REJECT_COMMANDS}), so nothing piles up.
 *
 * <p>Commands run at most once: what was in flight when a connection broke fails (and is counted on this node), it
 * is never sent again on a new connection; the probe replaces a broken connection. A command that timed out may
 * still have run in Redis; the node then counts it on its own as well, which errs toward refusing, never toward
 * letting more through.
 */
public final class Redis implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Redis.class);
    static final Duration PROBE_EVERY = Duration.ofSeconds(1);

    private final String where;
    private final RedisClient client;
    private final Duration timeout;
    private final ScheduledExecutorService probe;
    private final AtomicLong fallbacks = new AtomicLong();
    private final AtomicLong outages = new AtomicLong();
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile boolean up;
    private volatile String downReason = "not connected yet";
    private final java.util.List<Script> scripts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.List<RedisChannel> channels = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Redis(RelayConfig.Redis config) {
        this.where = Secrets.maskUrl(config.url());
        this.timeout = config.timeout();
        RedisURI uri = RedisURI.create(config.url());
        if (!config.password().isEmpty()) {
            uri.setCredentialsProvider(new StaticCredentialsProvider(user(config.url()),
                    config.password().toCharArray()));
        }
        uri.setTimeout(connectTimeout(timeout)); // the connection's handshake; commands get cluster.redis.timeout
        this.client = RedisClient.create(uri);
        ClientOptions.Builder options = ClientOptions.builder();
        if (config.caFile() != null) {
            try {
                TlsContexts.client(config.caFile()); // a missing or broken file stops start-up, naming the key
            } catch (TlsContexts.TlsMaterialException e) {
                throw new ConfigException(Setting.CLUSTER_REDIS_CA_FILE.key(), e.getMessage());
            }
            options.sslOptions(SslOptions.builder().jdkSslProvider().trustManager(config.caFile().toFile()).build());
        }
        client.setOptions(options
                // At most once: a script Redis ran whose answer was lost with the connection (a message counted, a
                // failure recorded) must not be sent again. REJECT_COMMANDS already fails what was in flight when a
                // connection breaks (RedisCountersIT shows it with either setting); without auto-reconnect no client
                // version can re-send it either: the probe makes the new connection.
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout(timeout)).keepAlive(true).build())
                .build());
        this.probe = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyrelay-redis-probe");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The user name in {@code url} ({@code redis://relay@host}, or {@code redis://relay:…@host}), null if none. Lettuce
     * reads a lone {@code relay@} as a password (Redis's old form), so with {@code cluster.redis.password} set the user
     * is taken from the URL here.
     */
    static String user(String url) {
        String info = java.net.URI.create(url).getRawUserInfo();
        if (info == null || info.isEmpty() || info.startsWith(":")) {
            return null;
        }
        int colon = info.indexOf(':');
        return java.net.URLDecoder.decode(colon < 0 ? info : info.substring(0, colon),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Duration connectTimeout(Duration commandTimeout) {
        Duration floor = Duration.ofSeconds(1);
        return commandTimeout.compareTo(floor) > 0 ? commandTimeout : floor;
    }

    /**
     * Connects to {@code config}'s Redis if it answers now; if it does not, starts all the same, down, and keeps
     * trying every second. Never throws for an unreachable Redis.
     */
    public static Redis start(RelayConfig.Redis config) {
        Redis r = new Redis(config);
        r.check();
        if (!r.up) {
            log.warn("Redis at {} unreachable at start ({}): counting limits and AUTH failures on this node until it"
                    + " answers", r.where, LogText.quote(r.downReason));
            r.outages.incrementAndGet();
        }
        r.probe.scheduleWithFixedDelay(r::probeIfDown, PROBE_EVERY.toMillis(), PROBE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        r.probe.scheduleWithFixedDelay(() -> r.channels.forEach(RedisChannel::tick), 0,
                RedisChannel.TICK.toMillis(), TimeUnit.MILLISECONDS);
        return r;
    }

    /**
     * Listens on the pub/sub {@code channel}, on a connection of its own: each message is given to {@code onMessage}
     * (on Lettuce's thread: keep it short), and after every (re)subscription {@code catchUp} reads what was published
     * before (true when it could). {@link RedisChannel#current()} says whether the channel can be trusted now.
     */
    public RedisChannel listen(String channel, java.util.function.Consumer<String> onMessage,
            java.util.function.Predicate<RedisCommands<String, String>> catchUp) {
        RedisChannel c = new RedisChannel(this, client, channel, onMessage, catchUp);
        channels.add(c);
        return c;
    }

    /**
     * Runs {@code op} on Redis if it is up; null if it is down, or if {@code op} fails (which marks it down). A null
     * answer is counted as a fallback: the caller counts on this node.
     */
    public <T> T call(String what, Function<RedisCommands<String, String>, T> op) {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            fallbacks.incrementAndGet();
            return null;
        }
        if (!c.isOpen()) {
            down(what, new IllegalStateException("connection closed"));
            fallbacks.incrementAndGet();
            return null;
        }
        try {
            return op.apply(c.sync());
        } catch (RuntimeException e) {
            down(what, e);
            fallbacks.incrementAndGet();
            return null;
        }
    }

    /**
     * Loads {@code script} into Redis now and whenever Redis comes back (SCRIPT LOAD), so the first message after a
     * start or a Redis restart need not wait for a NOSCRIPT and an EVAL. {@link #run} loads it anyway if Redis lost it.
     */
    public void preload(Script script) {
        scripts.add(script);
        StatefulRedisConnection<String, String> c = connection;
        if (up && c != null) {
            try {
                c.sync().scriptLoad(script.text());
            } catch (RuntimeException e) {
                down("load a script", e); // not a fallback: nothing was counted
            }
        }
    }

    /** Runs {@code script} with {@code keys} and {@code args}: EVALSHA, loading it with EVAL when Redis lost it. */
    public static <T> T run(RedisCommands<String, String> redis, Script script, ScriptOutputType type, String[] keys,
            String... args) {
        try {
            return redis.evalsha(script.sha1(), type, keys, args);
        } catch (RedisNoScriptException e) {
            return redis.eval(script.text(), type, keys, args); // loads it for the next EVALSHA
        }
    }

    /** True while Redis answers (the counters are shared); false while this node counts on its own. */
    public boolean up() {
        return up;
    }

    /** Why Redis is down, when it is (for {@code /readyz}). */
    public String downReason() {
        return downReason;
    }

    /** Operations counted on this node because Redis was down. */
    public long fallbacks() {
        return fallbacks.get();
    }

    /** Times Redis went down (or was down at start). */
    public long outages() {
        return outages.get();
    }

    /** Where Redis is, with any secret masked. */
    public String where() {
        return where;
    }

    private void down(String what, RuntimeException e) {
        synchronized (this) {
            if (!up) {
                return;
            }
            up = false;
            downReason = what + ": " + e.getMessage();
        }
        outages.incrementAndGet();
        log.warn("Redis at {} unreachable ({}): counting limits and AUTH failures on this node until it is back",
                where, LogText.quote(downReason));
    }

    private void probeIfDown() {
        if (up) {
            return;
        }
        check();
        if (up) {
            log.info("Redis at {} reachable again: limits and AUTH failures are counted across the cluster again",
                    where);
        }
    }

    /** Connects if need be and PINGs; up if the answer came. */
    private void check() {
        try {
            StatefulRedisConnection<String, String> c = connection;
            if (c == null || !c.isOpen()) {
                if (c != null) {
                    c.closeAsync();
                }
                c = client.connect();
                connection = c;
            }
            // The probe may wait longer than a command: a first answer can be slow (a cold JVM, a Redis loading).
            c.setTimeout(connectTimeout(timeout));
            try {
                if ("PONG".equals(c.sync().ping())) {
                    for (Script s : scripts) {
                        c.sync().scriptLoad(s.text());
                    }
                    up = true;
                }
            } finally {
                c.setTimeout(timeout);
            }
        } catch (RuntimeException e) {
            downReason = "connect: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")");
        }
    }

    @Override
    public void close() {
        probe.shutdownNow();
        channels.forEach(RedisChannel::close);
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    /** A Lua script and its SHA-1, as EVALSHA names it. */
    public record Script(String text, String sha1) {
        public static Script of(String text) {
            try {
                byte[] d = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
                return new Script(text, HexFormat.of().formatHex(d));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is part of every JDK", e);
            }
        }
    }
}
