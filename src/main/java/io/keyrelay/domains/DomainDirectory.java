package io.keyrelay.domains;

import io.keyrelay.dkim.DkimException;
import io.keyrelay.dkim.DkimSigner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP path's view of the sending domains: a snapshot of every domain held in memory, so no message waits for
 * the store. It is reloaded at once when this process changes a domain; on PostgreSQL, when a change notice of
 * topic {@value JdbcDomainStore#TOPIC} arrives ({@link #notified}) from another process (a CLI command, another
 * node); and by polling, every {@code fast} interval while no notices can arrive (H2, or the listener is down) and
 * every {@code slow} one as a safety net while they can. If the store cannot be read the last snapshot stays.
 * Private keys are opened (and imported into the signer's provider) once per key, never per message.
 */
public final class DomainDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DomainDirectory.class);

    private final DomainService domains;
    private final DkimSigner signer;
    private volatile Map<String, SendingDomain> snapshot = Map.of();
    private volatile boolean anyKeys;
    /** Opened signing keys, by their sealed text: a key that did not change is not opened again. */
    private final Map<String, io.keyrelay.dkim.SigningKey> opened = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicBoolean reloadQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong notices = new java.util.concurrent.atomic.AtomicLong();
    private volatile long lastReload = System.nanoTime();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("domain-directory").factory());

    public DomainDirectory(DomainService domains, DkimSigner signer) {
        this.domains = domains;
        this.signer = signer;
        domains.onChange(n -> reload());
        reload();
    }

    /** Starts reloading every {@code refresh}; returns this. */
    public DomainDirectory start(Duration refresh) {
        return start(refresh, refresh, () -> false);
    }

    /**
     * Starts reloading every {@code fast} interval while {@code listening} is false, and every {@code slow} one while
     * it is true (change notices bring the changes then); returns this.
     */
    public DomainDirectory start(Duration fast, Duration slow, BooleanSupplier listening) {
        long slowNanos = slow.toNanos();
        timer.scheduleWithFixedDelay(() -> {
            if (!listening.getAsBoolean() || System.nanoTime() - lastReload >= slowNanos) {
                reload();
            }
        }, fast.toMillis(), fast.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * A change notice for the domain {@code details} names: reloads soon on this directory's own thread (the
     * listener's must stay quick), once for any number of notices that arrive before the reload starts.
     */
    public void notified(String details) {
        notices.incrementAndGet();
        catchUp();
    }

    /** Reloads soon on this directory's own thread: after the listener (re)connected, notices may have been missed. */
    public void catchUp() {
        if (reloadQueued.compareAndSet(false, true)) {
            try {
                timer.execute(() -> {
                    reloadQueued.set(false); // before reading: a notice from now on queues another reload
                    reload();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                reloadQueued.set(false); // closed
            }
        }
    }

    /** Change notices received (for tests and metrics). */
    public long notices() {
        return notices.get();
    }

    /** Reads every domain again; keeps the last snapshot if the store cannot be read. */
    public void reload() {
        lastReload = System.nanoTime();
        try {
            Map<String, SendingDomain> next = domains.list().stream()
                    .collect(Collectors.toUnmodifiableMap(d -> d.name().ascii(), Function.identity()));
            snapshot = next;
            anyKeys = next.values().stream().anyMatch(d -> !d.keys().isEmpty());
            opened.keySet().retainAll(next.values().stream().flatMap(d -> d.keys().stream())
                    .map(DkimKey::sealedPrivateKey).collect(Collectors.toSet()));
        } catch (RuntimeException e) {
            log.warn("sending domains could not be reloaded; using the last copy: {}", e.toString());
        }
    }

    /** The domain, if it is a sending domain. */
    public SendingDomain find(String asciiDomain) {
        return snapshot.get(asciiDomain);
    }

    /** Whether any domain has a DKIM key, i.e. whether a message might be signed. */
    public boolean anyKeys() {
        return anyKeys;
    }

    /**
     * The keys to sign a message from {@code d} with: its active keys whose records verified (every active key with
     * {@code unverified} true), opened and imported. A key that cannot be opened is logged and left out.
     */
    public List<io.keyrelay.dkim.SigningKey> signingKeys(SendingDomain d, boolean unverified) {
        List<io.keyrelay.dkim.SigningKey> out = new ArrayList<>();
        for (DkimKey k : d.keys()) {
            if (k.state() != DkimKey.State.ACTIVE || !(unverified || k.status() == DkimStatus.VALID)) {
                continue;
            }
            try {
                out.add(opened.computeIfAbsent(k.sealedPrivateKey(), s -> open(k)));
            } catch (RuntimeException e) {
                log.warn("DKIM key {} cannot be used; the message is not signed with it: {}", k.recordName(),
                        e.getMessage());
            }
        }
        return out;
    }

    private io.keyrelay.dkim.SigningKey open(DkimKey k) {
        io.keyrelay.dkim.SigningKey key = new io.keyrelay.dkim.SigningKey(k.domain().ascii(), k.selector(),
                domains.keyring().privateKey(k));
        try {
            return signer.importKey(key);
        } catch (DkimException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
