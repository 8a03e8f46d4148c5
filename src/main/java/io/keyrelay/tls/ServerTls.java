package io.keyrelay.tls;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's server-side TLS: one {@link SSLContext} — for STARTTLS, implicit TLS and the admin HTTPS alike — whose
 * certificate and key are re-read when their files change, so a renewal needs no restart.
 *
 * <p>Every {@code smtp.tls.reload_interval} the two files are read in full and compared, by digest, with what is
 * being served; reading through the path follows symlinks, so certbot's {@code live/} links swapped to new
 * {@code archive/} files count as a change as much as files rewritten in place. A changed pair that parses and
 * belongs together is served from the next handshake on; sessions already encrypted keep theirs. A pair that does
 * not load keeps the current certificate in service and is logged once it has stayed the same for two checks —
 * renewals replace the two files one after the other, and a check can fall between them.
 */
public final class ServerTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

    private final Path certFile;
    private final Path keyFile;
    private final ReloadingKeyManager keys;
    private final SSLContext context;
    private volatile X509Certificate certificate;
    private byte[] served;
    private byte[] failing;
    private boolean failureLogged;
    private ScheduledExecutorService watcher;

    private ServerTls(Path certFile, Path keyFile, byte[] digest, TlsContexts.Identity identity) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.served = digest;
        this.certificate = identity.leaf();
        this.keys = new ReloadingKeyManager(identity.keyManager());
        this.context = TlsContexts.context(keys);
    }

    /**
     * Loads the certificate chain and key.
     *
     * @throws TlsContexts.TlsMaterialException naming the file when they cannot be used
     */
    public static ServerTls load(Path certFile, Path keyFile) {
        byte[] cert = TlsContexts.read(certFile);
        byte[] key = TlsContexts.read(keyFile);
        return new ServerTls(certFile, keyFile, digest(cert, key),
                TlsContexts.identity(cert, certFile.toString(), key, keyFile.toString()));
    }

    /** Checks the files every {@code interval} from now on, on a daemon thread, until {@link #close()}. */
    public ServerTls watch(Duration interval) {
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyrelay-tls-reload");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::reloadSafely, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    public SSLContext context() {
        return context;
    }

    /** The certificate served to new handshakes. */
    public X509Certificate certificate() {
        return certificate;
    }

    private void reloadSafely() {
        try {
            reloadIfChanged();
        } catch (RuntimeException e) {
            log.error("TLS certificate check failed", e);
        }
    }

    /** Reads the files now and serves them if they changed and load; true if a new certificate is served. */
    public synchronized boolean reloadIfChanged() {
        byte[] cert;
        byte[] key;
        try {
            cert = TlsContexts.read(certFile);
            key = TlsContexts.read(keyFile);
        } catch (TlsContexts.TlsMaterialException e) {
            return failed(null, e.getMessage());
        }
        byte[] digest = digest(cert, key);
        if (Arrays.equals(digest, served)) {
            failing = null;
            return false;
        }
        TlsContexts.Identity identity;
        try {
            identity = TlsContexts.identity(cert, certFile.toString(), key, keyFile.toString());
        } catch (TlsContexts.TlsMaterialException e) {
            return failed(digest, e.getMessage());
        }
        keys.replace(identity.keyManager());
        served = digest;
        failing = null;
        certificate = identity.leaf();
        log.info("TLS certificate reloaded from {}: {}", certFile, describe(certificate));
        return true;
    }

    /** Logs a pair that does not load, once, when a second check finds it unchanged. */
    private boolean failed(byte[] digest, String reason) {
        boolean same = digest == null ? failing != null && failing.length == 0 : Arrays.equals(digest, failing);
        if (!same) {
            failing = digest == null ? new byte[0] : digest;
            failureLogged = false;
            log.debug("TLS certificate files changed but do not load (yet?): {}", reason);
        } else if (!failureLogged) {
            failureLogged = true;
            log.error("TLS certificate files {} and {} changed but cannot be used: {}; still serving {}", certFile,
                    keyFile, reason, describe(certificate));
        }
        return false;
    }

    static String describe(X509Certificate c) {
        return c.getSubjectX500Principal().getName() + ", serial " + c.getSerialNumber().toString(16)
                + ", valid until " + c.getNotAfter().toInstant();
    }

    private static byte[] digest(byte[] cert, byte[] key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(cert);
            sha.update((byte) 0);
            sha.update(key);
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
