package io.keyrelay.keys;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.keyrelay.config.RelayConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finds keys by hash through a Caffeine cache, so a warm AUTH never touches the database.
 *
 * <p>Found keys live for {@code cache.ttl}, "no such key" for {@code cache.negative_ttl}. Entries older than
 * {@code cache.refresh} are reloaded in the background on their next use while the old value keeps serving,
 * so a hot key never waits on the store. If the store is down, a refresh fails quietly and the cached key keeps
 * working until {@code cache.ttl} after its last successful load; a key not in the cache then gets
 * {@link Result.Unavailable} (SMTP 454), never a permanent refusal.
 */
public final class KeyLookup {
    private final LoadingCache<String, Optional<ApiKey>> cache;
    private final LongAdder storeReads = new LongAdder();

    /** The outcome of a lookup. */
    public sealed interface Result {
        record Found(ApiKey key) implements Result {}

        enum Missing implements Result { INSTANCE }

        record Unavailable(RuntimeException cause) implements Result {}
    }

    public KeyLookup(KeyStore store, RelayConfig.Cache config, Ticker ticker, Executor refreshExecutor) {
        Duration ttl = config.ttl();
        Duration negativeTtl = config.negativeTtl();
        this.cache = Caffeine.newBuilder()
                .maximumSize(config.maxSize())
                .expireAfter(Expiry.<String, Optional<ApiKey>>writing((k, v) -> v.isPresent() ? ttl : negativeTtl))
                .refreshAfterWrite(config.refresh())
                .ticker(ticker)
                .executor(refreshExecutor)
                .recordStats()
                .build(hash -> {
                    storeReads.increment();
                    return store.findByHash(hash);
                });
    }

    /** Looks a key up by the hash of its secret. */
    public Result find(String keyHash) {
        try {
            Optional<ApiKey> key = cache.get(keyHash);
            return key.<Result>map(Result.Found::new).orElse(Result.Missing.INSTANCE);
        } catch (RuntimeException e) {
            return new Result.Unavailable(e);
        }
    }

    /**
     * The cached copy of a key, without waiting for the store: for callers on the message path that already hold
     * an older copy and only want the freshest one that costs nothing. When the key is not cached (a change just
     * dropped it), it is loaded in the background for next time and this answers empty.
     */
    public Optional<ApiKey> peek(String keyHash) {
        Optional<ApiKey> key = cache.getIfPresent(keyHash);
        if (key == null) {
            cache.refresh(keyHash); // asynchronous, on the refresh executor; concurrent calls share one load
            return Optional.empty();
        }
        return key;
    }

    /** Drops a key from the cache so its next use reads the store. */
    public void invalidate(String keyHash) {
        cache.invalidate(keyHash);
    }

    public void invalidateAll() {
        cache.invalidateAll();
    }

    public CacheStats stats() {
        return cache.stats();
    }

    public long size() {
        return cache.estimatedSize();
    }

    /** How many times the store was read on behalf of the cache (loads and refreshes). */
    public long storeReads() {
        return storeReads.sum();
    }

    /** The underlying cache, for metrics binding. */
    public com.github.benmanes.caffeine.cache.Cache<String, Optional<ApiKey>> cache() {
        return cache;
    }
}
