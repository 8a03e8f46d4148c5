package io.keyrelay.bench;

import io.keyrelay.tls.TlsProvider;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What one load-generator run does: where it connects, how many sessions it runs side by side, how many messages
 * each session sends and how large they are, how it authenticates, and the bounds (a deadline) it stops at.
 *
 * <p>{@code connections} sessions run at once; each connects, says EHLO, optionally upgrades to TLS, authenticates
 * once (when a key is given), sends {@code messagesPerSession} messages and quits. A worker that finishes a session
 * starts another until {@code sessions} sessions have run, so {@code sessions == connections} is one session per
 * connection and a larger number churns connections. {@code idleSessions} more sessions are opened first and held
 * open, authenticated and idle, for the whole run (the "many concurrent sessions" profile).
 *
 * @param key the API key used as the AUTH PLAIN password; null to send no AUTH (a target that needs none)
 * @param tlsProvider the TLS implementation of the generator's side ({@link TlsProvider}); only used with TLS
 * @param caFile PEM CA certificates to verify the target's certificate against; null trusts any certificate on a
 *     loopback target (benchmarks use self-signed ones) and the JVM's default CAs elsewhere
 */
public record BenchOptions(
        String host,
        int port,
        int connections,
        int messagesPerSession,
        int sessions,
        int size,
        int recipients,
        String user,
        String key,
        Tls tls,
        TlsProvider tlsProvider,
        Path caFile,
        int idleSessions,
        Duration timeout,
        Duration readTimeout,
        String sender,
        String recipientDomain,
        boolean allowRemote) {

    /** How the generator talks TLS to the target. */
    public enum Tls { NONE, STARTTLS, IMPLICIT }

    /** The smallest message the generator writes: its own headers and one body line. */
    public static final int MIN_SIZE = 256;

    public BenchOptions {
        require(host != null && !host.isBlank(), "--host: must not be empty");
        require(port > 0 && port <= 65535, "--port: " + port + " is not a port");
        require(connections > 0, "--connections: must be at least 1");
        require(messagesPerSession >= 0, "--messages: must not be negative");
        require(sessions >= connections, "--sessions: must be at least --connections (" + connections + ")");
        require(size >= MIN_SIZE, "--size: must be at least " + MIN_SIZE + " bytes");
        require(recipients > 0, "--recipients: must be at least 1");
        require(idleSessions >= 0, "--idle-sessions: must not be negative");
        require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "--timeout: must be positive");
        require(readTimeout != null && !readTimeout.isNegative() && !readTimeout.isZero(),
                "--read-timeout: must be positive");
        require(user != null && !user.isEmpty(), "--user: must not be empty");
        require(tls != null, "--tls: must be set");
        require(tlsProvider != null, "--tls-provider: must be set");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Messages the run sends when nothing fails: sessions times messages per session. */
    public long plannedMessages() {
        return (long) sessions * messagesPerSession;
    }

    /** The same load shape for an unmeasured warm-up: {@code sessions} sessions (at least one per connection), no idle ones. */
    public BenchOptions warmup(int warmupSessions) {
        return new BenchOptions(host, port, connections, messagesPerSession, Math.max(connections, warmupSessions), size,
                recipients, user, key, tls, tlsProvider, caFile, 0, timeout, readTimeout, sender, recipientDomain, allowRemote);
    }

    @Override
    public String toString() {
        // never the key
        return "BenchOptions[" + host + ":" + port + ", connections=" + connections + ", messages=" + messagesPerSession
                + ", sessions=" + sessions + ", size=" + size + ", recipients=" + recipients + ", tls=" + tls + (tls == Tls.NONE ? "" : " (" + tlsProvider.label() + ")")
                + ", idle=" + idleSessions + ", auth=" + (key == null ? "none" : user + ":****") + "]";
    }
}
