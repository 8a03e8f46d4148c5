package io.keyrelay.smtp;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * This node's {@link AuthFailureStore}: per bucket, a fixed array of the last {@code limit} distinct fingerprints and
 * when each was last presented — a count above the ban threshold is never needed, so no bucket grows past it.
 *
 * <p>Memory is bounded under a flood of distinct addresses: buckets live in a Caffeine cache of at most
 * {@code maxBuckets} entries, each dropped {@code keep} after it was last written (the longer of the window and the
 * ban). Time comes from {@code clock}, also as the cache's ticker, so tests move a clock instead of waiting.
 */
public final class InMemoryAuthFailures implements AuthFailureStore {
    private final Cache<String, Bucket> buckets;
    private final int limit;

    /**
     * @param limit the most distinct fingerprints worth remembering per bucket ({@code limits.auth_failures})
     * @param maxBuckets the most buckets remembered at once ({@code limits.auth_tracked_addresses})
     * @param keep how long a bucket is remembered after it was last written
     */
    public InMemoryAuthFailures(int limit, long maxBuckets, Duration keep, Clock clock) {
        this.limit = limit;
        this.buckets = Caffeine.newBuilder()
                .maximumSize(maxBuckets)
                .expireAfterWrite(keep)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .executor(Runnable::run) // evictions are cheap; doing them inline keeps the bound exact
                .build();
    }

    @Override
    public int recordFailure(String bucket, String fingerprint, Instant now, Duration window) {
        int[] count = {0};
        buckets.asMap().compute(bucket, (k, b) -> {
            Bucket entry = b == null ? new Bucket(limit) : b;
            count[0] = entry.record(fingerprint, now.toEpochMilli(), window.toMillis());
            return entry;
        });
        return count[0];
    }

    @Override
    public void ban(String bucket, Instant until) {
        buckets.asMap().compute(bucket, (k, b) -> {
            Bucket entry = b == null ? new Bucket(limit) : b;
            entry.clear();
            entry.bannedUntil = until.toEpochMilli();
            return entry;
        });
    }

    @Override
    public Optional<Instant> bannedUntil(String bucket, Instant now) {
        Bucket b = buckets.getIfPresent(bucket);
        if (b == null) {
            return Optional.empty();
        }
        long until = b.bannedUntil;
        return until > now.toEpochMilli() ? Optional.of(Instant.ofEpochMilli(until)) : Optional.empty();
    }

    @Override
    public long trackedBuckets() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    /** One bucket: up to {@code limit} fingerprints with the time each was last presented, and its ban. */
    private static final class Bucket {
        private final String[] fingerprints;
        private final long[] lastSeen;
        volatile long bannedUntil;

        Bucket(int limit) {
            this.fingerprints = new String[limit];
            this.lastSeen = new long[limit];
        }

        /** Notes {@code fingerprint} at {@code now}; returns the distinct fingerprints seen within the window. */
        int record(String fingerprint, long now, long windowMillis) {
            int slot = indexOf(fingerprint);
            if (slot < 0) {
                slot = freeOrOldestSlot();
                fingerprints[slot] = fingerprint;
            }
            lastSeen[slot] = now;
            int live = 0;
            for (int i = 0; i < fingerprints.length; i++) {
                if (fingerprints[i] != null && now - lastSeen[i] < windowMillis) {
                    live++;
                }
            }
            return live;
        }

        private int indexOf(String fingerprint) {
            for (int i = 0; i < fingerprints.length; i++) {
                if (fingerprint.equals(fingerprints[i])) {
                    return i;
                }
            }
            return -1;
        }

        /** An empty slot, else the one whose fingerprint was presented longest ago (it is the first to leave the window). */
        private int freeOrOldestSlot() {
            int oldest = 0;
            for (int i = 0; i < fingerprints.length; i++) {
                if (fingerprints[i] == null) {
                    return i;
                }
                if (lastSeen[i] < lastSeen[oldest]) {
                    oldest = i;
                }
            }
            return oldest;
        }

        void clear() {
            Arrays.fill(fingerprints, null);
            Arrays.fill(lastSeen, 0);
        }
    }
}
