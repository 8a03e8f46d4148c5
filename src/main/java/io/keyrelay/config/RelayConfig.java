package io.keyrelay.config;

import io.keyrelay.net.IpRange;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The whole configuration, read once at start by {@link ConfigLoader} and immutable afterwards. Each record
 * checks the rules that span several keys; single values were checked as they were parsed.
 */
public record RelayConfig(Path dataDir, Db db, Keys keys, Smtp smtp, Downstream downstream, Cache cache, Admin admin,
        Log log, Limits limits, AuthLimits authLimits, Audit audit, Cluster cluster, Queue queue,
        SendingDomains domains) {

    /** The key store. {@code url} is null for the embedded H2 database. */
    public record Db(String url, String user, String password, int poolSize) {
        public Db {
            if (url != null && !url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:h2:")) {
                throw new ConfigException(Setting.DB_URL.key(),
                        Secrets.maskUrl(url) + " is not a jdbc:postgresql: (or jdbc:h2:) URL");
            }
        }
    }

    /** Key hashing. {@code pepper} is null when unset. */
    public record Keys(String pepper) {}

    /** TLS material for the SMTP listeners; both null when TLS is not configured. */
    public record Tls(Path cert, Path key) {
        public Tls {
            if ((cert == null) != (key == null)) {
                throw new ConfigException(cert == null ? Setting.SMTP_TLS_CERT.key() : Setting.SMTP_TLS_KEY.key(),
                        "is required when " + (cert == null ? Setting.SMTP_TLS_KEY.key() : Setting.SMTP_TLS_CERT.key())
                                + " is set");
            }
        }

        public boolean enabled() {
            return cert != null;
        }
    }

    /** When AUTH may be used on a connection that is not encrypted. */
    public enum PlaintextAuth { NEVER, LOOPBACK, ALWAYS }

    public record Auth(PlaintextAuth plaintext, List<String> usernames) {
        public Auth {
            usernames = List.copyOf(usernames);
            if (usernames.isEmpty()) {
                throw new ConfigException(Setting.SMTP_AUTH_USERNAMES.key(), "at least one username is required");
            }
        }
    }

    /** Which PROXY protocol header the SMTP listeners expect in front of the SMTP conversation. */
    public enum ProxyProtocol { OFF, V1, V2, ANY }

    /**
     * The PROXY protocol (HAProxy's): which header version is expected, and the peers allowed to send it. When
     * {@code mode} is not OFF, connections from peers outside {@code trusted} are refused.
     */
    public record Proxy(ProxyProtocol mode, List<IpRange> trusted) {
        public Proxy {
            trusted = List.copyOf(trusted);
            if (mode != ProxyProtocol.OFF && trusted.isEmpty()) {
                throw new ConfigException(Setting.SMTP_PROXY_TRUSTED.key(), "is required when smtp.proxy_protocol is "
                        + mode.name().toLowerCase(Locale.ROOT) + " (list the proxies' addresses)");
            }
        }

        public boolean enabled() {
            return mode != ProxyProtocol.OFF;
        }

        /** True if {@code peer} is one of the trusted proxies. */
        public boolean trusts(InetAddress peer) {
            for (IpRange r : trusted) {
                if (r.contains(peer)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The SMTP listeners. {@code implicitTlsPort} is 0 when off; {@code maxMessageSize} is in bytes;
     * {@code tlsReloadInterval} is how often the certificate files are checked for changes; {@code shutdownGrace}
     * is how long transactions under way may take to finish on SIGTERM.
     */
    public record Smtp(InetAddress listen, int port, int implicitTlsPort, String hostname, Tls tls,
            Duration tlsReloadInterval, Auth auth, long maxMessageSize, int maxRecipients, int maxConnections,
            Duration idleTimeout, Proxy proxy, Duration shutdownGrace, SessionLimits sessionLimits) {
        public Smtp {
            if (implicitTlsPort != 0 && !tls.enabled()) {
                throw new ConfigException(Setting.SMTP_IMPLICIT_TLS_PORT.key(),
                        implicitTlsPort + " needs smtp.tls.cert and smtp.tls.key");
            }
            if (implicitTlsPort != 0 && implicitTlsPort == port) {
                throw new ConfigException(Setting.SMTP_IMPLICIT_TLS_PORT.key(),
                        implicitTlsPort + " is the same port as smtp.port");
            }
        }
    }

    /**
     * What one client address and one session may take of the relay ({@code smtp.*}): concurrent connections and
     * new connections per {@code connectionRateWindow} per address (0: no limit), deadlines for a command line, a
     * message, the authentication, the envelope and a PROXY header, and the error and junk-command budgets.
     */
    public record SessionLimits(int maxConnectionsPerIp, int maxConnectionRatePerIp, Duration connectionRateWindow,
            Duration commandTimeout, Duration dataTimeout, Duration authTimeout, Duration transactionTimeout,
            Duration proxyTimeout, int hardErrorLimit, int junkCommandLimit) {
        /** The shortest of the deadlines in use (the watchdog sweeps at a fraction of it). */
        public Duration shortestDeadline(boolean proxy) {
            Duration d = commandTimeout;
            for (Duration x : new Duration[] {dataTimeout, authTimeout, transactionTimeout}) {
                d = x.compareTo(d) < 0 ? x : d;
            }
            return proxy && proxyTimeout.compareTo(d) < 0 ? proxyTimeout : d;
        }
    }

    /**
     * The defaults for keys without their own ({@code limits.*}): the sending rates and the concurrent sessions
     * per key; 0 means unlimited. The size and recipient defaults are {@link Smtp#maxMessageSize()} and
     * {@link Smtp#maxRecipients()}.
     */
    public record Limits(long messagesPerMinute, long messagesPerDay, int sessionsPerKey) {
        /** Rates only, with unlimited sessions per key. */
        public Limits(long messagesPerMinute, long messagesPerDay) {
            this(messagesPerMinute, messagesPerDay, 0);
        }
    }

    /**
     * Throttling of failed SMTP AUTHs per client address (per /64 for IPv6, {@code limits.auth_*}): {@code failures}
     * within {@code window} get the address refused for {@code ban}; every failure is answered after {@code delay}
     * (zero: at once); at most {@code trackedAddresses} addresses are remembered.
     */
    public record AuthLimits(int failures, Duration window, Duration ban, Duration delay, int trackedAddresses) {}

    /** How much sending domains are required of senders ({@code sending_domains.require}; {@code domains.SenderPolicy}). */
    public enum RequireDomains { OFF, CONFIGURED, VERIFIED }

    /**
     * Sending domains and their DKIM keys: {@code masterKey} is the base64 of the 32-byte key the private keys are
     * sealed under, checked for its length (null when unset); {@code recheck} is how often their records are looked
     * up again; {@code dnsServers} (empty: the system's resolvers) and {@code dnsTimeout} are for those look-ups;
     * {@code require}, {@code checkEnvelope} and {@code signUnverified} are the sender policy and signing rules.
     */
    public record SendingDomains(String masterKey, Duration recheck, List<java.net.InetSocketAddress> dnsServers,
            Duration dnsTimeout, RequireDomains require, boolean checkEnvelope, boolean signUnverified) {
        public SendingDomains {
            dnsServers = List.copyOf(dnsServers);
        }

        @Override
        public String toString() {
            return "SendingDomains[masterKey=" + Secrets.mask(masterKey) + ", recheck=" + recheck + ", dnsServers="
                    + dnsServers + ", dnsTimeout=" + dnsTimeout + ", require=" + require + ", checkEnvelope="
                    + checkEnvelope + ", signUnverified=" + signUnverified + "]";
        }
    }

    /** The audit trail's writer: how many failed-AUTH events may wait for the store before new ones are dropped. */
    public record Audit(int queueSize) {}

    /** Whether the 250 after DATA means "committed to the store" or "accepted by the downstream". */
    public enum RelayMode { QUEUE, PASSTHROUGH }

    /**
     * The durable queue ({@code relay.mode}, {@code queue.*}): the mode, the delivery workers on this node, how long a
     * claim lasts, the fallback poll, the waits between attempts (the last repeats), the longest a recipient may
     * stay deferred, when a sender is warned of a delay ({@code Duration.ZERO}: never), and how long a failed message
     * is kept before it is purged ({@code Duration.ZERO}: forever).
     */
    public record Queue(RelayMode mode, int workers, Duration lease, Duration pollInterval, List<Duration> retrySchedule,
            Duration maxAge, Duration delayWarning, Duration failedRetention) {
        public Queue {
            retrySchedule = List.copyOf(retrySchedule);
            if (retrySchedule.isEmpty()) {
                throw new ConfigException(Setting.QUEUE_RETRY_SCHEDULE.key(), "needs at least one duration");
            }
        }

        public boolean enabled() {
            return mode == RelayMode.QUEUE;
        }

        /** The wait after the {@code attempt}-th attempt (1-based) left a recipient deferred. */
        public Duration retryAfter(int attempt) {
            return retrySchedule.get(Math.min(Math.max(attempt, 1), retrySchedule.size()) - 1);
        }
    }

    /** How relayed mail leaves. */
    public enum DownstreamTls { NONE, STARTTLS, IMPLICIT }

    /** The downstream MTA. {@code host} is null when none is configured; {@code caFile} null for the JVM default. */
    public record Downstream(String host, int port, DownstreamTls tls, boolean tlsVerify, Path caFile,
            String username, String password, int poolSize, boolean pipelining, Duration connectTimeout,
            Duration readTimeout) {
        public Downstream {
            if (!password.isEmpty() && username.isEmpty()) {
                throw new ConfigException(Setting.DOWNSTREAM_USERNAME.key(),
                        "is required when downstream.password is set");
            }
        }

        public boolean configured() {
            return host != null;
        }
    }

    /** The key cache. */
    public record Cache(long maxSize, Duration ttl, Duration negativeTtl, Duration refresh) {
        public Cache {
            if (refresh.compareTo(ttl) >= 0) {
                throw new ConfigException(Setting.CACHE_REFRESH.key(), Durations.format(refresh)
                        + " must be shorter than cache.ttl (" + Durations.format(ttl) + ")");
            }
        }
    }

    /**
     * The admin HTTP server. {@code port} 0 turns it off; {@code sessionTimeout} is how long an idle web console
     * session lasts; {@code tls} is the SMTP certificate when {@code admin.tls} is on, else a disabled {@link Tls}.
     */
    public record Admin(InetAddress listen, int port, Duration sessionTimeout, Tls tls) {
        public Admin {
            tls = tls == null ? new Tls(null, null) : tls;
        }

        public boolean enabled() {
            return port != 0;
        }
    }

    /**
     * This node among several sharing one store ({@code cluster.*}). {@code nodeName} is a token safe in a log line, a
     * metric tag and a header comment.
     */
    public record Cluster(String nodeName, Redis redis) {
        /** Without Redis (tests, single nodes). */
        public Cluster(String nodeName) {
            this(nodeName, new Redis(null, "", Duration.ofMillis(250), null));
        }
    }

    /**
     * The Redis the nodes share counters in; {@code url} is null when none is configured, {@code caFile} null for the
     * JVM's trust store.
     */
    public record Redis(String url, String password, Duration timeout, Path caFile) {
        public Redis {
            if (caFile != null && (url == null || !url.startsWith("rediss:"))) {
                throw new ConfigException(Setting.CLUSTER_REDIS_CA_FILE.key(), "is set, but cluster.redis.url is not"
                        + " a rediss:// (TLS) URL");
            }
        }

        /** Without TLS trust of its own. */
        public Redis(String url, String password, Duration timeout) {
            this(url, password, timeout, null);
        }

        public boolean configured() {
            return url != null;
        }
    }

    /** How log lines are written. */
    public enum LogFormat { PLAIN, JSON }

    /** Logging. */
    public record Log(LogFormat format) {}
}
