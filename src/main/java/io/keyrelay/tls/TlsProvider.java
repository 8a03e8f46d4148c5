package io.keyrelay.tls;

import java.security.Provider;
import java.util.Locale;
import org.conscrypt.Conscrypt;

/**
 * The JSSE implementation a TLS client context is built on: the JDK's own ({@code SunJSSE}), or Conscrypt —
 * BoringSSL through JNI — whose per-record cost is a fraction of the JDK's.
 *
 * <p>Used by the load generator ({@code keyrelay bench --tls-provider}), which shares the machine's cores with the
 * server it measures: with JDK TLS the generator spent more CPU per message on TLS than the relay spent on the
 * whole message (BENCHMARKS.md, profile S). The relay itself keeps the JDK's TLS: measured side by side, Conscrypt
 * on the server side saved nothing beyond noise, and the JDK's needs no native code.
 *
 * <p>Conscrypt's classes and native library are loaded only when {@link #CONSCRYPT} is chosen.
 */
public enum TlsProvider {
    /** The JDK's TLS (the JVM's default provider). */
    JDK,
    /** Conscrypt (BoringSSL, native); available where its bundled library loads (Linux, macOS, Windows on x86-64 and arm64). */
    CONSCRYPT;

    /** The provider to ask for an {@code SSLContext}, or null for the JVM's default. */
    public Provider provider() {
        return this == JDK ? null : ConscryptHolder.provider();
    }

    /** The implementation and its version, for reports: {@code SunJSSE 25}, {@code Conscrypt 2.9.0}. */
    public String implementation() {
        if (this == JDK) {
            return "SunJSSE " + Runtime.version().feature();
        }
        ConscryptHolder.provider();
        Conscrypt.Version v = Conscrypt.version();
        return v == null ? "Conscrypt" : "Conscrypt " + v.major() + "." + v.minor() + "." + v.patch();
    }

    /** The name as typed on the command line and shown in reports: {@code jdk}, {@code conscrypt}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code jdk} or {@code conscrypt} (any case). */
    public static TlsProvider parse(String text) {
        for (TlsProvider p : values()) {
            if (p.label().equalsIgnoreCase(text == null ? "" : text.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException(text + " is not a TLS provider (jdk, conscrypt)");
    }

    /** Loads Conscrypt on first use, once, and says clearly when its native library cannot load here. */
    private static final class ConscryptHolder {
        private static final Provider PROVIDER;
        private static final String FAILURE;

        static {
            Provider p = null;
            String failure = null;
            try {
                Conscrypt.checkAvailability();
                p = Conscrypt.newProvider();
            } catch (Throwable e) { // UnsatisfiedLinkError and friends, from the native library
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                failure = "Conscrypt's native library does not load on this platform (" + System.getProperty("os.name")
                        + " " + System.getProperty("os.arch") + "): " + root;
            }
            PROVIDER = p;
            FAILURE = failure;
        }

        static Provider provider() {
            if (PROVIDER == null) {
                throw new IllegalStateException(FAILURE);
            }
            return PROVIDER;
        }
    }
}
