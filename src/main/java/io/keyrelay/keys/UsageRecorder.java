package io.keyrelay.keys;

import io.keyrelay.net.IpLiteral;
import io.keyrelay.text.LogText;
import java.net.InetAddress;
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
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
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

    /** A use waiting to be written; the address is turned into text only when it is written. */
    private record Pending(Instant at, InetAddress client) {}

    /**
     * Notes a use; cheap, never blocks on the store. A use in the same second and from the same address as the one
     * already pending is not noted again: on the AUTH hot path that is a lock-free map read and no allocation,
     * instead of a map write (which locks the entry) per AUTH. The column is written about once a minute anyway.
     */
    public void record(String keyId, Instant at, InetAddress client) {
        Pending p = pending.get(keyId);
        if (p != null && p.at().getEpochSecond() == at.getEpochSecond() && p.client().equals(client)) {
            return;
        }
        pending.put(keyId, new Pending(at, client));
    }

    /** Writes what is pending. Entries that fail to write are kept for the next attempt unless newer ones arrived. */
    public void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>(pending.size());
        List<Pending> taken = new ArrayList<>(pending.size());
        List<KeyStore.Usage> batch = new ArrayList<>(pending.size());
        for (String id : new ArrayList<>(pending.keySet())) {
            Pending u = pending.remove(id);
            if (u != null) {
                ids.add(id);
                taken.add(u);
                batch.add(new KeyStore.Usage(id, u.at(), IpLiteral.normalise(u.client()).getHostAddress()));
            }
        }
        try {
            store.recordUsage(batch);
        } catch (RuntimeException e) {
            for (int i = 0; i < ids.size(); i++) {
                pending.putIfAbsent(ids.get(i), taken.get(i));
            }
            throw e;
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("cannot record key usage (will retry): {}", LogText.quote(e.getMessage()));
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        flushQuietly();
    }
}
