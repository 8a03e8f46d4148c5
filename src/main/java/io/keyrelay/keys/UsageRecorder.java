package io.keyrelay.keys;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers when and from where each key was last used and writes that to the store in one batch per interval
 * (a minute by default), so a busy key costs one write a minute instead of one per AUTH, and never on the
 * AUTH path itself.
 */
public final class UsageRecorder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsageRecorder.class);

    private final KeyStore store;
    private final ConcurrentHashMap<String, KeyStore.Usage> pending = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;

    public UsageRecorder(KeyStore store) {
        this.store = store;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyrelay-key-usage");
            t.setDaemon(true);
            return t;
        });
    }

    public UsageRecorder start(Duration interval) {
        scheduler.scheduleWithFixedDelay(this::flushQuietly, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /** Notes a use; cheap, never blocks on the store. */
    public void record(String keyId, Instant at, String clientAddress) {
        pending.put(keyId, new KeyStore.Usage(keyId, at, clientAddress));
    }

    /** Writes what is pending. Entries that fail to write are kept for the next attempt unless newer ones arrived. */
    public void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<KeyStore.Usage> batch = new ArrayList<>(pending.size());
        for (String id : new ArrayList<>(pending.keySet())) {
            KeyStore.Usage u = pending.remove(id);
            if (u != null) {
                batch.add(u);
            }
        }
        try {
            store.recordUsage(batch);
        } catch (RuntimeException e) {
            for (KeyStore.Usage u : batch) {
                pending.putIfAbsent(u.keyId(), u);
            }
            throw e;
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("cannot record key usage (will retry): {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        flushQuietly();
    }
}
