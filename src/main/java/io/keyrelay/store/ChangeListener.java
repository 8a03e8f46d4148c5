package io.keyrelay.store;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.text.LogText;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's ear on {@link ChangeNotices#CHANNEL}: a dedicated PostgreSQL connection, outside the pool (a pooled
 * connection would be handed to other work and its LISTEN lost), read by its own platform thread, which hands each
 * notice to the handlers of its topic.
 *
 * <p>NOTIFY is not replayed: notices sent while this node was not listening are gone. So after every connect and
 * reconnect the {@link #onConnect} callbacks run, and they read what changed meanwhile from the durable records
 * (for keys, {@code key_changes}). A lost connection is retried with a doubling backoff from
 * {@value #MIN_BACKOFF_MS} ms to {@value #MAX_BACKOFF_MS} ms with jitter; one warning when it is lost, one line when
 * it is back. A connection that goes quiet is checked every {@code PING_AFTER}, so a peer that vanished without a
 * reset is noticed too. Handlers run on the listener's thread and must be quick.
 */
public final class ChangeListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChangeListener.class);
    static final long MIN_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 10_000;
    private static final int WAIT_MS = 1_000;
    private static final Duration PING_AFTER = Duration.ofSeconds(15);

    private final String url;
    private final Properties props;
    private final Map<String, List<Consumer<String>>> handlers = new ConcurrentHashMap<>();
    private final List<Runnable> onConnect = new CopyOnWriteArrayList<>();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private final Thread thread;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile Connection current;

    /** A listener for the PostgreSQL store {@code db}; {@code node} names its connection in {@code pg_stat_activity}. */
    public ChangeListener(RelayConfig.Db db, String node) {
        this.url = db.url();
        this.props = new Properties();
        if (!db.user().isEmpty()) {
            props.setProperty("user", db.user());
        }
        if (!db.password().isEmpty()) {
            props.setProperty("password", db.password());
        }
        props.setProperty("ApplicationName", applicationName(node));
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        this.thread = new Thread(this::run, "keyrelay-change-listener");
        thread.setDaemon(true);
    }

    /** The {@code application_name} of a node's listening connection, as {@code pg_stat_activity} shows it. */
    public static String applicationName(String node) {
        return "keyrelay-listen " + node;
    }

    /** Calls {@code handler} with the details of every notice of {@code topic}. Register before {@link #start}. */
    public ChangeListener subscribe(String topic, Consumer<String> handler) {
        handlers.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(handler);
        return this;
    }

    /** Runs {@code catchUp} after every connect and reconnect, once LISTEN is in place. Register before {@link #start}. */
    public ChangeListener onConnect(Runnable catchUp) {
        onConnect.add(catchUp);
        return this;
    }

    public ChangeListener start() {
        thread.start();
        return this;
    }

    /** True while LISTEN is in place on a live connection. */
    public boolean connected() {
        return connected;
    }

    /** Notices received since start. */
    public long received() {
        return received.get();
    }

    /** Connections lost (and so retried) since start. */
    public long reconnects() {
        return reconnects.get();
    }

    private void run() {
        long backoff = MIN_BACKOFF_MS;
        boolean warned = false;
        while (!closed) {
            try (Connection c = DriverManager.getConnection(url, props)) {
                current = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + ChangeNotices.CHANNEL);
                }
                connected = true;
                if (warned) {
                    log.info("change notifications from the store resumed");
                    warned = false;
                }
                backoff = MIN_BACKOFF_MS;
                catchUp();
                listen(c);
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                if (connected) {
                    reconnects.incrementAndGet();
                }
                connected = false;
                if (!warned) {
                    log.warn("change notifications from the store lost, polling meanwhile (will reconnect): {}",
                            LogText.quote(e.getMessage()));
                    warned = true;
                }
                if (!pause(backoff + ThreadLocalRandom.current().nextLong(backoff / 2 + 1))) {
                    break;
                }
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            } finally {
                connected = false;
                current = null;
            }
        }
    }

    private void listen(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long quietSince = System.nanoTime();
        while (!closed) {
            PGNotification[] notices = pg.getNotifications(WAIT_MS);
            if (notices == null || notices.length == 0) {
                if (System.nanoTime() - quietSince > PING_AFTER.toNanos()) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SELECT 1"); // throws if the server went away without a word
                    }
                    quietSince = System.nanoTime();
                }
                continue;
            }
            quietSince = System.nanoTime();
            for (PGNotification n : notices) {
                received.incrementAndGet();
                dispatch(n.getParameter());
            }
        }
    }

    private void dispatch(String payload) {
        int space = payload.indexOf(' ');
        String topic = space < 0 ? payload : payload.substring(0, space);
        String details = space < 0 ? "" : payload.substring(space + 1);
        for (Consumer<String> h : handlers.getOrDefault(topic, List.of())) {
            try {
                h.accept(details);
            } catch (RuntimeException e) {
                log.warn("change notice {} not handled: {}", LogText.quote(topic), e.toString());
            }
        }
    }

    private void catchUp() {
        for (Runnable r : onConnect) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.warn("catch-up after connecting for change notices failed: {}", e.toString());
            }
        }
    }

    private boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection c = current;
        if (c != null) {
            try {
                c.close(); // wakes the listening thread
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
