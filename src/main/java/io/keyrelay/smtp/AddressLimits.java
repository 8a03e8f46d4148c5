package io.keyrelay.smtp;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.net.AddressBucket;
import java.net.InetAddress;
import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * How much of the relay one client address may take at connect: at most {@code smtp.max_connections_per_ip}
 * sessions at once, and at most {@code smtp.max_connection_rate_per_ip} new connections per
 * {@code smtp.connection_rate_window} — so one address cannot take every one of {@code smtp.max_connections}, nor
 * keep the relay busy opening and closing connections. An address is an IPv4 address or an IPv6 /64
 * ({@link AddressBucket}); behind a trusted proxy, the one in the PROXY header.
 *
 * <p>The rate follows Postfix's anvil: an address's count starts with its first connection and starts again once a
 * window has passed since then; every attempt counts, refused ones too, so a client that keeps hammering stays
 * refused until it pauses. Memory is bounded: open counts exist only for addresses with open sessions (at most
 * {@code smtp.max_connections}), and rates are held for at most {@code limits.auth_tracked_addresses} addresses,
 * each forgotten a window after its last connection. Per node, like every limit here.
 */
final class AddressLimits {
    /** What an address's new connection may do. */
    enum Admission { ACCEPTED, TOO_MANY, TOO_FAST }

    private final int maxOpen;
    private final int maxRate;
    private final long windowMillis;
    private final Clock clock;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
    private final Cache<String, Rate> rates;

    AddressLimits(RelayConfig.SessionLimits limits, int trackedAddresses, Clock clock) {
        this.maxOpen = limits.maxConnectionsPerIp();
        this.maxRate = limits.maxConnectionRatePerIp();
        this.windowMillis = limits.connectionRateWindow().toMillis();
        this.clock = clock;
        this.rates = Caffeine.newBuilder()
                .maximumSize(trackedAddresses)
                .expireAfterWrite(limits.connectionRateWindow())
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .executor(Runnable::run)
                .build();
    }

    /**
     * Counts a new connection from {@code client}. When {@link Admission#ACCEPTED} it holds one of the address's
     * places until {@link #closed}; otherwise it holds none.
     */
    Admission connected(InetAddress client) {
        String bucket = AddressBucket.of(client);
        if (maxRate > 0 && !withinRate(bucket)) {
            return Admission.TOO_FAST;
        }
        if (maxOpen > 0) {
            boolean[] room = {false};
            open.compute(bucket, (k, n) -> {
                int now = n == null ? 0 : n;
                room[0] = now < maxOpen;
                return room[0] ? now + 1 : (n == null ? null : n);
            });
            if (!room[0]) {
                return Admission.TOO_MANY;
            }
        }
        return Admission.ACCEPTED;
    }

    /** Gives back the place of a session from {@code client} that was {@link Admission#ACCEPTED}. */
    void closed(InetAddress client) {
        if (maxOpen > 0) {
            open.computeIfPresent(AddressBucket.of(client), (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Sessions open now from the address of {@code client} (for tests and logs). */
    int openFrom(InetAddress client) {
        return open.getOrDefault(AddressBucket.of(client), 0);
    }

    private boolean withinRate(String bucket) {
        long now = clock.millis();
        boolean[] ok = {true};
        rates.asMap().compute(bucket, (k, r) -> {
            Rate rate = r == null || now - r.since >= windowMillis ? new Rate(now) : r;
            ok[0] = ++rate.count <= maxRate;
            return rate;
        });
        return ok[0];
    }

    /** One address's connections in its current window. */
    private static final class Rate {
        final long since;
        int count;

        Rate(long since) {
            this.since = since;
        }
    }
}
