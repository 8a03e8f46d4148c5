package io.keyrelay.admin;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.keyrelay.keys.KeyLookup;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * Binds the process-wide meters {@code /metrics} shows besides the relay's own: JVM (memory, GC, threads,
 * classes, info), process (CPU, uptime, file descriptors), the key cache (Caffeine: {@code cache_*} with
 * {@code cache="api_keys"}, and {@code keyrelay_key_store_reads_total}) and the database pool (HikariCP: {@code hikaricp_*} with
 * {@code pool="keyrelay-db"}). Bind once per process, before traffic; {@link #close()} detaches the GC listener.
 */
public final class ServerMetrics implements AutoCloseable {
    /** The {@code cache} label of the key cache's meters. */
    public static final String KEY_CACHE = "api_keys";

    private final JvmGcMetrics gc = new JvmGcMetrics();

    private ServerMetrics() {}

    /**
     * Binds everything to {@code registry}.
     *
     * @param pool the key store's pool ({@code Database.hikari()}); its metrics tracker can be set only once
     * @param keyLookup the key cache
     */
    public static ServerMetrics bind(MeterRegistry registry, HikariDataSource pool, KeyLookup keyLookup) {
        ServerMetrics m = new ServerMetrics();
        new JvmMemoryMetrics().bindTo(registry);
        m.gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        CaffeineCacheMetrics.monitor(registry, keyLookup.cache(), KEY_CACHE);
        // The proof that a warm AUTH costs no database query: this counter stays still while cache hits climb.
        FunctionCounter.builder("keyrelay.key.store.reads", keyLookup, KeyLookup::storeReads)
                .description("Key store reads made for the key cache (loads and background refreshes)")
                .register(registry);
        pool.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        return m;
    }

    @Override
    public void close() {
        gc.close();
    }
}
