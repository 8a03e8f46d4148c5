package io.keyrelay.keys;

import io.keyrelay.text.LogText;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells this process about key changes made by other processes sharing the store (the CLI, other relay nodes),
 * so their cached copies are dropped within about one poll interval.
 *
 * <p>It reads the {@code key_changes} notices written in the same transaction as each change. Each poll asks for
 * notices stamped since the previous successful poll minus an overlap, measured on the database's own clock, so
 * neither clock skew between nodes, nor a transaction that commits a little after it stamped its row, nor an
 * outage of the store loses a notice; notices seen in the previous poll are not acted on twice. The same
 * mechanism serves PostgreSQL and H2.
 *
 * <p>On PostgreSQL each notice is also sent with NOTIFY ({@link io.keyrelay.store.ChangeNotices}, topic
 * {@value #TOPIC}); {@link #notified} acts on it the moment it arrives, and {@link #catchUp} reads the notices of a
 * time the listener was not connected. Polling then only backs the listener up: every {@code fast} interval while
 * the listener is down (or on H2), every {@code slow} one while it is up.
 */
public final class KeyChangePoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KeyChangePoller.class);
    static final Duration OVERLAP = Duration.ofSeconds(10);
    private static final Duration RETENTION = Duration.ofDays(1);
    private static final long PRUNE_EVERY_POLLS = 7200;
    /** The change-notice topic of key changes; details {@code <notice id> <key hash>}. */
    public static final String TOPIC = "key";

    private final KeyStore store;
    private final Consumer<String> onChange;
    private final ScheduledExecutorService scheduler;
    private Instant since;
    private Set<Long> seen = new HashSet<>();
    private final Set<Long> local = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private boolean failing;
    private long polls;
    private long lastPoll = System.nanoTime();

    public KeyChangePoller(KeyStore store, Consumer<String> onChange) {
        this.store = store;
        this.onChange = onChange;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyrelay-key-changes");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Marks a notice as already acted on: this process made the change and dropped its cached copy at once, so the
     * poll that later sees the notice must not drop the freshly reloaded entry again.
     */
    public void seen(long noticeId) {
        local.add(noticeId);
    }

    /** Starts polling every {@code interval}. */
    public KeyChangePoller start(Duration interval) {
        return start(interval, interval, () -> false);
    }

    /**
     * Starts polling every {@code fast} interval while {@code listening} is false, and every {@code slow} one while it
     * is true (NOTIFY brings the changes then; the slow poll is a safety net).
     */
    public KeyChangePoller start(Duration fast, Duration slow, java.util.function.BooleanSupplier listening) {
        long slowNanos = slow.toNanos();
        scheduler.scheduleWithFixedDelay(() -> {
            if (!listening.getAsBoolean() || System.nanoTime() - lastPoll >= slowNanos) {
                pollSafely();
            }
        }, 0, fast.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * A key change notice as NOTIFY brought it ({@code <notice id> <key hash>}): the cached copy is dropped at once,
     * on the caller's thread, unless this process already acted on the notice.
     */
    public void notified(String details) {
        int space = details.indexOf(' ');
        if (space < 0) {
            return;
        }
        long id;
        try {
            id = Long.parseLong(details.substring(0, space));
        } catch (NumberFormatException e) {
            return;
        }
        if (local.add(id)) {
            onChange.accept(details.substring(space + 1));
        }
    }

    /** Reads the notices written meanwhile, soon, on the poller's thread (after the listener (re)connected). */
    public void catchUp() {
        scheduler.execute(this::pollSafely);
    }

    private void pollSafely() {
        lastPoll = System.nanoTime();
        try {
            poll();
            if (failing) {
                log.info("key store reachable again; key change notices resumed");
                failing = false;
            }
        } catch (RuntimeException e) {
            if (!failing) {
                log.warn("cannot read key change notices (will retry): {}", LogText.quote(e.getMessage()));
                failing = true;
            }
        }
    }

    /** One poll; package-private for tests. */
    void poll() {
        boolean first = since == null;
        Instant from = first ? Instant.now().minus(OVERLAP) : since.minus(OVERLAP);
        KeyStore.Changes changes = store.changesSince(from);
        Set<Long> now = new HashSet<>();
        for (KeyStore.Change c : changes.changes()) {
            now.add(c.id());
            if (local.remove(c.id())) {
                continue;
            }
            if (!first && !seen.contains(c.id())) {
                onChange.accept(c.keyHash());
            }
        }
        seen = now;
        since = changes.now();
        if (++polls % PRUNE_EVERY_POLLS == 0) {
            int n = store.pruneChanges(changes.now().minus(RETENTION));
            log.debug("pruned {} old key change notices", n);
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
