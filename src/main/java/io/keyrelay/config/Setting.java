package io.keyrelay.config;

import java.util.Locale;

/**
 * Every configuration key keyrelay reads, with its default and meaning. This list is the single source for
 * parsing, environment overrides, {@code keyrelay config print}, the example file and the table in
 * docs/configuration.md ({@link SettingsTable}, {@code keyrelay config docs}; tests check the last two against it).
 */
public enum Setting {
    DATA_DIR("data_dir", "./data", false,
            "Directory for the embedded database, the dev-mode certificate and the dev-mode outbox."),

    DB_URL("db.url", "", false,
            "JDBC URL of a PostgreSQL database (jdbc:postgresql://host:5432/keyrelay). Empty: an embedded H2"
                    + " database in data_dir, shared safely with CLI commands run while the relay is up."),
    DB_USER("db.user", "", false, "Database user."),
    DB_PASSWORD("db.password", "", true, "Database password."),
    DB_POOL_SIZE("db.pool_size", "10", false, "Maximum database connections (HikariCP pool size)."),

    KEYS_PEPPER("keys.pepper", "", true,
            "Optional server secret: when set, keys are stored as HMAC-SHA-256(pepper, key) instead of SHA-256(key)."
                    + " Changing it invalidates every existing key."),

    SMTP_LISTEN("smtp.listen", "0.0.0.0", false, "Address the SMTP listeners bind to (an IP literal; :: for all IPv6)."),
    SMTP_PORT("smtp.port", "587", false, "SMTP submission port (plain, with STARTTLS when a certificate is set)."),
    SMTP_IMPLICIT_TLS_PORT("smtp.implicit_tls_port", "", false,
            "Port for SMTP with TLS from the first byte (RFC 8314, usually 465). Empty: off."),
    SMTP_HOSTNAME("smtp.hostname", "", false,
            "Name in the greeting, EHLO reply and Received header. Empty: this machine's host name."),
    SMTP_TLS_CERT("smtp.tls.cert", "", false, "PEM certificate chain for STARTTLS and implicit TLS."),
    SMTP_TLS_KEY("smtp.tls.key", "", false, "PEM private key (RSA or EC, PKCS#1 or PKCS#8) for smtp.tls.cert."),
    SMTP_TLS_RELOAD_INTERVAL("smtp.tls.reload_interval", "1m", false,
            "How often smtp.tls.cert and smtp.tls.key are checked for changes; a renewed certificate is used for new"
                    + " connections without a restart, and a broken one is logged and ignored."),
    SMTP_AUTH_PLAINTEXT("smtp.auth.plaintext", "never", false,
            "Whether AUTH may be used before STARTTLS: never | loopback (clients on 127.0.0.0/8 and ::1) | always."),
    SMTP_AUTH_USERNAMES("smtp.auth.usernames", "SMTP_Injection", false,
            "Accepted AUTH usernames (comma-separated in the environment). The password is the API key."),
    SMTP_MAX_MESSAGE_SIZE("smtp.max_message_size", "50MiB", false,
            "Largest message accepted (advertised as SIZE); a key's own max_message_size can only lower it."
                    + " Units: B, KB/KiB, MB/MiB, GB/GiB (all binary)."),
    SMTP_MAX_RECIPIENTS("smtp.max_recipients", "100", false,
            "Most recipients per message, for keys without their own max_recipients."),
    SMTP_MAX_CONNECTIONS("smtp.max_connections", "2000", false, "Most concurrent SMTP sessions; more get 421."),
    SMTP_IDLE_TIMEOUT("smtp.idle_timeout", "5m", false, "A session waiting this long for a client's next line is closed."),
    SMTP_MAX_CONNECTIONS_PER_IP("smtp.max_connections_per_ip", "50", false,
            "Most concurrent SMTP sessions from one client address (one /64 for IPv6; behind a trusted proxy, the"
                    + " address in the PROXY header); more get 421 4.7.0 at connect. 0: no limit."),
    SMTP_MAX_CONNECTION_RATE_PER_IP("smtp.max_connection_rate_per_ip", "600", false,
            "Most new SMTP connections one client address (one /64 for IPv6) may open per"
                    + " smtp.connection_rate_window; more get 421 4.7.0 at connect. 0: no limit."),
    SMTP_CONNECTION_RATE_WINDOW("smtp.connection_rate_window", "1m", false,
            "The time unit of smtp.max_connection_rate_per_ip: an address's count starts at its first connection"
                    + " and starts again once this long has passed (as Postfix's anvil_rate_time_unit)."),
    SMTP_COMMAND_TIMEOUT("smtp.command_timeout", "5m", false,
            "Deadline for each command line, from when the relay waits for it to its CRLF, however the client"
                    + " trickles it; past it: 421 4.7.0 and the connection closes."),
    SMTP_DATA_TIMEOUT("smtp.data_timeout", "10m", false,
            "Deadline for a whole message, from the 354 to the end-of-data line; past it: 421 4.7.0, the connection"
                    + " closes and nothing is relayed."),
    SMTP_AUTH_TIMEOUT("smtp.auth_timeout", "60s", false,
            "A session that has not authenticated this long after it connected gets 421 4.7.0 and is closed."),
    SMTP_TRANSACTION_TIMEOUT("smtp.transaction_timeout", "5m", false,
            "Deadline from MAIL FROM to the DATA command (while the transaction may hold a downstream"
                    + " connection); past it: 421 4.7.0 and the connection closes."),
    SMTP_PROXY_TIMEOUT("smtp.proxy_timeout", "5s", false,
            "Deadline for a trusted proxy's PROXY protocol header (smtp.proxy_protocol); past it the connection is"
                    + " closed (421 4.3.0 if part of a header came)."),
    SMTP_HARD_ERROR_LIMIT("smtp.hard_error_limit", "20", false,
            "Error replies (4xx and 5xx) a session may get without a message being delivered; at the limit:"
                    + " 421 4.7.0 and the connection closes (as Postfix's smtpd_hard_error_limit)."),
    SMTP_JUNK_COMMAND_LIMIT("smtp.junk_command_limit", "100", false,
            "NOOP, RSET, HELP, VRFY and EXPN commands a session may send without a message being delivered; each one"
                    + " past it counts as an error towards smtp.hard_error_limit (as Postfix's"
                    + " smtpd_junk_command_limit)."),
    SMTP_PROXY_PROTOCOL("smtp.proxy_protocol", "off", false,
            "PROXY protocol header expected on every SMTP listener: off | v1 | v2 | any (v1 or v2). When on, only peers"
                    + " in smtp.proxy_trusted may connect, and the address in the header is the client's."),
    SMTP_PROXY_TRUSTED("smtp.proxy_trusted", "", false,
            "Addresses and CIDR blocks of the proxies (HAProxy, a load balancer) allowed to connect when"
                    + " smtp.proxy_protocol is on (comma-separated in the environment)."),
    SMTP_SHUTDOWN_GRACE("smtp.shutdown_grace", "30s", false,
            "On SIGTERM, how long transactions already under way may take to finish before the relay exits."),

    LIMITS_AUTH_FAILURES("limits.auth_failures", "5", false,
            "Different wrong keys (SMTP AUTH, admin API and console sign-in together) from one client address (one"
                    + " /64 for IPv6) within limits.auth_window after which the address is refused for limits.auth_ban."
                    + " One stale key retried counts once; a valid key refused for its address or grants not at all."),
    LIMITS_AUTH_WINDOW("limits.auth_window", "5m", false, "The window in which limits.auth_failures are counted (a key presented again stays in it from its last use)."),
    LIMITS_AUTH_BAN("limits.auth_ban", "15m", false,
            "How long an address is refused (SMTP: 421 at connect and at AUTH; admin: 429) after too many failed"
                    + " AUTHs."),
    LIMITS_AUTH_DELAY("limits.auth_delay", "1s", false,
            "Delay before a failed AUTH is answered (0 turns it off). It holds no thread."),
    LIMITS_AUTH_TRACKED_ADDRESSES("limits.auth_tracked_addresses", "100000", false,
            "Most client addresses whose failed AUTHs are remembered at once (about 500 bytes each), and as many for"
                    + " connection rates (smtp.max_connection_rate_per_ip); the least active are forgotten first."),
    LIMITS_MESSAGES_PER_MINUTE("limits.messages_per_minute", "0", false,
            "Messages a key may send per minute (a burst of this many, refilled evenly), for keys without their own"
                    + " messages_per_minute. 0: unlimited. Counted per relay node, or across the cluster with"
                    + " cluster.redis.url."),
    LIMITS_MESSAGES_PER_DAY("limits.messages_per_day", "0", false,
            "Messages a key may send per UTC day, for keys without their own messages_per_day. 0: unlimited."
                    + " Counted per relay node, or across the cluster with cluster.redis.url."),
    LIMITS_SESSIONS_PER_KEY("limits.sessions_per_key", "16", false,
            "Most concurrent authenticated SMTP sessions (and so mail transactions) of one key, for keys without"
                    + " their own sessions_per_key; the AUTH past it gets 421 4.7.0. Keep it below downstream.pool_size"
                    + " so one key cannot hold every downstream connection. 0: unlimited. Counted per relay node."),

    SENDING_DOMAINS_REQUIRE("sending_domains.require", "verified", false,
            "Which senders a key may use: off (any) | configured (the domain of every From:/Sender: address, and of the"
                    + " envelope sender, must be a sending domain of the key's account and in the key's own"
                    + " sending_domains, if it has a list) | verified (that, and its DKIM record verified)."
                    + " Refusals: 550 5.7.1 Unconfigured Sending Domain <domain>. keyrelay dev defaults to off."),
    SENDING_DOMAINS_CHECK_ENVELOPE("sending_domains.check_envelope", "true", false,
            "Whether the envelope sender's domain (MAIL FROM, unless <>) is checked too, at MAIL FROM."),
    SENDING_DOMAINS_RECHECK("sending_domains.recheck", "24h", false,
            "How often each sending domain's DKIM records are looked up again. A domain is marked unverified only"
                    + " on an answer that says so (no such name, no record, another key), never on a timeout or"
                    + " SERVFAIL, which keep its status."),
    DKIM_MASTER_KEY("dkim.master_key", "", true,
            "Secret under which DKIM private keys are stored (AES-256-GCM): 32 random bytes in base64 (openssl rand"
                    + " -base64 32). serve refuses to start without it once sending domains exist; dev makes one in"
                    + " data_dir/dkim-master.key. Changing it makes every stored DKIM key unreadable."),
    DKIM_SIGN_UNVERIFIED("dkim.sign_unverified", "false", false,
            "Sign mail from sending domains whose DKIM record has not verified yet (receivers cannot check such a"
                    + " signature until the record is published)."),
    DNS_SERVERS("dns.servers", "", false,
            "DNS servers for sending-domain verification: host or host:port, comma-separated ([2001:db8::53]:5353"
                    + " for IPv6 with a port). Empty: the system's resolvers (/etc/resolv.conf)."),
    DNS_TIMEOUT("dns.timeout", "5s", false, "How long a DNS look-up may take, over every server, before it counts"
            + " as no answer."),

    AUDIT_QUEUE_SIZE("audit.queue_size", "10000", false,
            "Most failed-AUTH audit events waiting to be written to the store; more are dropped, counted in"
                    + " keyrelay_audit_events_dropped_total and reported in the log."),

    RELAY_MODE("relay.mode", "queue", false,
            "queue: a message is committed to the store, answered 250 \"queued as <id>\", and delivered by the queue's"
                    + " workers with retries (docs/queue.md) | passthrough: relayed to the downstream during the"
                    + " client's transaction and answered with the downstream's own reply."),
    QUEUE_WORKERS("queue.workers", "32", false,
            "Delivery workers on this node (virtual threads; each delivers one message at a time through the"
                    + " downstream pool, so at most downstream.pool_size deliver at once). Also how many newly"
                    + " accepted messages may wait for this node's own workers, already claimed (docs/queue.md)."),
    QUEUE_LEASE("queue.lease", "10m", false,
            "How long a worker's claim on a message lasts; if its node dies, another node delivers the message once"
                    + " the lease has run out. Longer than one delivery can take (downstream.read_timeout)."),
    QUEUE_POLL_INTERVAL("queue.poll_interval", "1s", false,
            "How often idle workers look for due messages (messages accepted on this node wake them at once)."),
    QUEUE_RETRY_SCHEDULE("queue.retry_schedule", "1m,5m,15m,30m,1h,2h,4h", false,
            "Waits after each failed attempt of a deferred recipient (comma-separated); the last repeats."),
    QUEUE_MAX_AGE("queue.max_age", "5d", false,
            "A recipient still deferred this long after the message was accepted fails (as Postfix's"
                    + " maximal_queue_lifetime)."),
    QUEUE_DELAY_WARNING("queue.delay_warning", "0", false,
            "After how long a sender whose recipient is still deferred gets one delay warning (a DSN with"
                    + " Action: delayed; as Postfix's delay_warning_time). 0: off."),
    QUEUE_FAILED_RETENTION("queue.failed_retention", "7d", false,
            "How long a failed message (every recipient settled, at least one failed) stays in the queue"
                    + " for inspection or retry, counted from its last change; then it is purged. 0: kept forever."),

    DOWNSTREAM_HOST("downstream.host", "", false,
            "The MTA that relayed mail goes to. Empty: serve refuses to start; dev writes to data_dir/outbox."),
    DOWNSTREAM_PORT("downstream.port", "25", false, "Port of the downstream MTA."),
    DOWNSTREAM_TLS("downstream.tls", "starttls", false,
            "TLS to the downstream: none | starttls (required, not opportunistic) | implicit."),
    DOWNSTREAM_TLS_VERIFY("downstream.tls_verify", "true", false,
            "Verify the downstream's certificate and host name. Turn off only for a downstream on a trusted network."),
    DOWNSTREAM_CA_FILE("downstream.ca_file", "", false,
            "PEM file of CA certificates to trust for the downstream instead of the JVM's default trust store."),
    DOWNSTREAM_USERNAME("downstream.username", "", false, "AUTH username at the downstream. Empty: no AUTH."),
    DOWNSTREAM_PASSWORD("downstream.password", "", true, "AUTH password at the downstream."),
    DOWNSTREAM_POOL_SIZE("downstream.pool_size", "32", false,
            "Most open downstream connections; they are reused across messages."),
    DOWNSTREAM_PIPELINING("downstream.pipelining", "true", false,
            "When the downstream offers PIPELINING, send MAIL FROM together with the first RCPT TO (one round trip"
                    + " less per message); a refused sender then reaches the client as the answer to its RCPT TO."),
    DOWNSTREAM_CONNECT_TIMEOUT("downstream.connect_timeout", "10s", false, "Timeout to connect to the downstream."),
    DOWNSTREAM_READ_TIMEOUT("downstream.read_timeout", "5m", false,
            "Timeout for each downstream reply (RFC 5321 suggests up to 10m for the end of DATA)."),

    CACHE_MAX_SIZE("cache.max_size", "100000", false, "Most keys held in the key cache."),
    CACHE_TTL("cache.ttl", "10m", false,
            "How long a found key is used without a successful reload; also how long cached keys keep working"
                    + " while the database is unreachable."),
    CACHE_NEGATIVE_TTL("cache.negative_ttl", "30s", false, "How long \"no such key\" is remembered."),
    CACHE_REFRESH("cache.refresh", "30s", false,
            "A cached key older than this is reloaded in the background on its next use, without waiting."),

    ADMIN_LISTEN("admin.listen", "127.0.0.1", false, "Address of the admin HTTP server (API, console, health, metrics)."),
    ADMIN_PORT("admin.port", "8080", false, "Port of the admin HTTP server. 0: off."),
    ADMIN_TLS("admin.tls", "false", false,
            "Serve the admin HTTP server over HTTPS with the SMTP certificate (smtp.tls.cert and smtp.tls.key)."),
    ADMIN_SESSION_TIMEOUT("admin.session_timeout", "30m", false,
            "A web console session unused for this long is signed out (sessions end after 12h regardless)."),

    CLUSTER_NODE_NAME("cluster.node_name", "", false,
            "This node's name: in its log lines, as the node tag of its metrics and in the Received header it adds,"
                    + " so a message or an alert can be traced to the node of a cluster that handled it. Letters,"
                    + " digits, '.', '_' and '-', at most 63. Empty: this machine's host name (a Kubernetes pod's name)."),
    CLUSTER_REDIS_URL("cluster.redis.url", "", false,
            "Redis that the nodes of a cluster share for the per-key sending rates and daily quotas and the per-address"
                    + " AUTH-failure throttle: redis://host:6379/0, or rediss:// for TLS (a user name may go before"
                    + " '@'; the password goes in cluster.redis.password). Empty: each node counts on its own. Redis"
                    + " unreachable: each node counts on its own until it is back; mail is never refused for it."),
    CLUSTER_REDIS_PASSWORD("cluster.redis.password", "", true, "Password for cluster.redis.url (Redis AUTH)."),
    CLUSTER_REDIS_CA_FILE("cluster.redis.ca_file", "", false,
            "PEM file of CA certificates to trust for a rediss:// Redis instead of the JVM's default trust store (its"
                    + " certificate and host name are always verified)."),
    CLUSTER_REDIS_TIMEOUT("cluster.redis.timeout", "250ms", false,
            "Longest wait for a Redis reply; a command that takes longer counts Redis as unreachable, and the node"
                    + " counts on its own, checking every second whether Redis is back."),

    LOG_FORMAT("log.format", "plain", false,
            "Log line format on stderr: plain (one readable line per event) | json (one JSON object per line).");

    private final String key;
    private final String defaultValue;
    private final boolean secret;
    private final String description;

    Setting(String key, String defaultValue, boolean secret, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.secret = secret;
        this.description = description;
    }

    /** The dotted key, as written in the YAML file. */
    public String key() {
        return key;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public boolean secret() {
        return secret;
    }

    public String description() {
        return description;
    }

    /** The environment variable that overrides this key: {@code KEYRELAY_} + the key in upper case, dots as {@code _}. */
    public String envName() {
        return "KEYRELAY_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key)) {
                return s;
            }
        }
        return null;
    }
}
