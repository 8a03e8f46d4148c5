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
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP path's view of the sending domains: a snapshot of every domain held in memory, so no message waits for
 * the store. It is reloaded at once when this process changes a domain, and every {@code refresh} for changes made
 * elsewhere (a CLI command, another node); if the store cannot be read the last snapshot stays. Private keys are
 * opened (and imported into the signer's provider) once per key, never per message.
 */
public final class DomainDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DomainDirectory.class);

    private final DomainService domains;
    private final DkimSigner signer;
    private volatile Map<String, SendingDomain> snapshot = Map.of();
    private volatile boolean anyKeys;
    /** Opened signing keys, by their sealed text: a key that did not change is not opened again. */
    private final Map<String, io.keyrelay.dkim.SigningKey> opened = new ConcurrentHashMap<>();
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
        timer.scheduleWithFixedDelay(this::reload, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads every domain again; keeps the last snapshot if the store cannot be read. */
    public void reload() {
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
