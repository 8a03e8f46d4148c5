package io.keyrelay.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.keyrelay.net.IpLiteral;
import io.keyrelay.net.IpRange;
import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the configuration: built-in defaults, then the YAML file (if one is given), then {@code KEYRELAY_*}
 * environment variables, then validates everything into a {@link RelayConfig}. Unknown keys in the file are an
 * error (a typo must not silently fall back to a default).
 */
public final class ConfigLoader {
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private ConfigLoader() {}

    /** The raw text of each setting that was given explicitly (file or environment), before typing. */
    public record Raw(Map<Setting, String> explicit, List<String> warnings) {
        public Raw {
            explicit = Map.copyOf(explicit);
            warnings = List.copyOf(warnings);
        }

        /** The effective text of a setting: explicit, else its default. */
        public String get(Setting s) {
            return explicit.getOrDefault(s, s.defaultValue());
        }

        public boolean isSet(Setting s) {
            return explicit.containsKey(s);
        }

        /** A copy where the given values stand in for defaults of settings not set explicitly (dev mode). */
        public Raw withDefaults(Map<Setting, String> defaults) {
            Map<Setting, String> m = new EnumMap<>(Setting.class);
            m.putAll(defaults);
            m.putAll(explicit);
            return new Raw(m, warnings);
        }

        /** A copy with one value replaced (tests and CLI flags). */
        public Raw with(Setting s, String value) {
            Map<Setting, String> m = new EnumMap<>(Setting.class);
            m.putAll(explicit);
            m.put(s, value);
            return new Raw(m, warnings);
        }
    }

    /** Loads file (may be null) and environment into raw values. */
    public static Raw read(Path file, Map<String, String> env) {
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        if (file != null) {
            readFile(file, values);
        }
        List<String> warnings = new ArrayList<>();
        for (Setting s : Setting.values()) {
            String v = env.get(s.envName());
            if (v != null) {
                values.put(s, v);
            }
        }
        for (String name : env.keySet()) {
            if (name.startsWith("KEYRELAY_") && Arrays.stream(Setting.values()).noneMatch(s -> s.envName().equals(name))
                    && !name.equals("KEYRELAY_CONFIG") && !name.startsWith("KEYRELAY_TEST_")) {
                warnings.add("ignoring environment variable " + name + ": no such configuration key");
            }
        }
        return new Raw(values, warnings);
    }

    /** Reads and validates. */
    public static RelayConfig load(Path file, Map<String, String> env) {
        return build(read(file, env));
    }

    private static void readFile(Path file, Map<Setting, String> out) {
        JsonNode root;
        try {
            root = YAML.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("--config", file + " does not exist");
        } catch (JsonProcessingException e) {
            throw new ConfigException("--config", file + YamlErrors.describe(e));
        } catch (IOException e) {
            throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return; // an empty file, or one with only comments
        }
        if (!root.isObject()) {
            throw new ConfigException("--config", file + " must hold a mapping of keys to values");
        }
        flatten("", root, out);
    }

    private static void flatten(String prefix, JsonNode node, Map<Setting, String> out) {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode v = e.getValue();
            Setting s = Setting.byKey(key);
            if (s == null) {
                if (v.isObject() && isPrefix(key)) {
                    flatten(key, v, out);
                    continue;
                }
                if (v.isNull() && isPrefix(key)) {
                    continue; // a section whose keys are all commented out
                }
                throw new ConfigException(key, "unknown configuration key" + suggestion(key));
            }
            if (v.isObject()) {
                throw new ConfigException(key, "expects a value, not a mapping");
            }
            if (v.isArray()) {
                List<String> items = new ArrayList<>();
                v.forEach(item -> items.add(item.asText()));
                out.put(s, String.join(",", items));
            } else {
                out.put(s, v.isNull() ? "" : v.asText());
            }
        }
    }

    private static boolean isPrefix(String key) {
        return Arrays.stream(Setting.values()).anyMatch(s -> s.key().startsWith(key + "."));
    }

    private static String suggestion(String key) {
        return io.keyrelay.text.Typos.closest(key, Arrays.stream(Setting.values()).map(Setting::key).toList(), 3)
                .map(best -> "; did you mean " + best + "?").orElse("");
    }

    /** Types and validates every value. */
    public static RelayConfig build(Raw raw) {
        Values v = new Values(raw);
        Path dataDir = v.path(Setting.DATA_DIR);
        if (dataDir == null) {
            throw new ConfigException(Setting.DATA_DIR.key(), "must not be empty");
        }
        var db = new RelayConfig.Db(v.optional(Setting.DB_URL), v.string(Setting.DB_USER), v.string(Setting.DB_PASSWORD),
                v.intIn(Setting.DB_POOL_SIZE, 1, 1000));
        var keys = new RelayConfig.Keys(v.optional(Setting.KEYS_PEPPER));
        var tls = new RelayConfig.Tls(v.path(Setting.SMTP_TLS_CERT), v.path(Setting.SMTP_TLS_KEY));
        var auth = new RelayConfig.Auth(v.choice(Setting.SMTP_AUTH_PLAINTEXT, RelayConfig.PlaintextAuth.class),
                v.list(Setting.SMTP_AUTH_USERNAMES));
        String hostname = v.optional(Setting.SMTP_HOSTNAME);
        var smtp = new RelayConfig.Smtp(
                v.address(Setting.SMTP_LISTEN),
                v.port(Setting.SMTP_PORT, true),
                v.optionalPort(Setting.SMTP_IMPLICIT_TLS_PORT),
                hostname == null ? localHostName() : v.hostname(Setting.SMTP_HOSTNAME),
                tls,
                v.positiveDuration(Setting.SMTP_TLS_RELOAD_INTERVAL),
                auth,
                v.sizeIn(Setting.SMTP_MAX_MESSAGE_SIZE, 1024, Integer.MAX_VALUE),
                v.intIn(Setting.SMTP_MAX_RECIPIENTS, 1, 100_000),
                v.intIn(Setting.SMTP_MAX_CONNECTIONS, 1, 1_000_000),
                v.positiveDuration(Setting.SMTP_IDLE_TIMEOUT),
                new RelayConfig.Proxy(v.choice(Setting.SMTP_PROXY_PROTOCOL, RelayConfig.ProxyProtocol.class),
                        v.ranges(Setting.SMTP_PROXY_TRUSTED)),
                v.positiveDuration(Setting.SMTP_SHUTDOWN_GRACE),
                new RelayConfig.SessionLimits(
                        v.intIn(Setting.SMTP_MAX_CONNECTIONS_PER_IP, 0, 1_000_000),
                        v.intIn(Setting.SMTP_MAX_CONNECTION_RATE_PER_IP, 0, 1_000_000_000),
                        v.positiveDuration(Setting.SMTP_CONNECTION_RATE_WINDOW),
                        v.positiveDuration(Setting.SMTP_COMMAND_TIMEOUT),
                        v.positiveDuration(Setting.SMTP_DATA_TIMEOUT),
                        v.positiveDuration(Setting.SMTP_AUTH_TIMEOUT),
                        v.positiveDuration(Setting.SMTP_TRANSACTION_TIMEOUT),
                        v.positiveDuration(Setting.SMTP_PROXY_TIMEOUT),
                        v.intIn(Setting.SMTP_HARD_ERROR_LIMIT, 1, 1_000_000),
                        v.intIn(Setting.SMTP_JUNK_COMMAND_LIMIT, 0, 1_000_000)));
        var authLimits = new RelayConfig.AuthLimits(
                v.intIn(Setting.LIMITS_AUTH_FAILURES, 1, 1000),
                v.positiveDuration(Setting.LIMITS_AUTH_WINDOW),
                v.positiveDuration(Setting.LIMITS_AUTH_BAN),
                v.nonNegativeDuration(Setting.LIMITS_AUTH_DELAY, Duration.ofMinutes(1)),
                v.intIn(Setting.LIMITS_AUTH_TRACKED_ADDRESSES, 100, 100_000_000));
        String host = v.optional(Setting.DOWNSTREAM_HOST);
        var downstream = new RelayConfig.Downstream(
                host == null ? null : v.hostname(Setting.DOWNSTREAM_HOST),
                v.port(Setting.DOWNSTREAM_PORT, false),
                v.choice(Setting.DOWNSTREAM_TLS, RelayConfig.DownstreamTls.class),
                v.bool(Setting.DOWNSTREAM_TLS_VERIFY),
                v.path(Setting.DOWNSTREAM_CA_FILE),
                v.string(Setting.DOWNSTREAM_USERNAME),
                v.string(Setting.DOWNSTREAM_PASSWORD),
                v.intIn(Setting.DOWNSTREAM_POOL_SIZE, 1, 10_000),
                v.bool(Setting.DOWNSTREAM_PIPELINING),
                v.positiveDuration(Setting.DOWNSTREAM_CONNECT_TIMEOUT),
                v.positiveDuration(Setting.DOWNSTREAM_READ_TIMEOUT));
        var cache = new RelayConfig.Cache(
                v.intIn(Setting.CACHE_MAX_SIZE, 1, 100_000_000),
                v.positiveDuration(Setting.CACHE_TTL),
                v.positiveDuration(Setting.CACHE_NEGATIVE_TTL),
                v.positiveDuration(Setting.CACHE_REFRESH));
        boolean adminTls = v.bool(Setting.ADMIN_TLS);
        if (adminTls && !tls.enabled()) {
            throw new ConfigException(Setting.ADMIN_TLS.key(), "true needs smtp.tls.cert and smtp.tls.key");
        }
        var admin = new RelayConfig.Admin(v.address(Setting.ADMIN_LISTEN), v.port(Setting.ADMIN_PORT, true),
                v.positiveDuration(Setting.ADMIN_SESSION_TIMEOUT), adminTls ? tls : null);
        var log = new RelayConfig.Log(v.choice(Setting.LOG_FORMAT, RelayConfig.LogFormat.class));
        var limits = new RelayConfig.Limits(v.intIn(Setting.LIMITS_MESSAGES_PER_MINUTE, 0, 1_000_000_000),
                v.intIn(Setting.LIMITS_MESSAGES_PER_DAY, 0, 1_000_000_000),
                v.intIn(Setting.LIMITS_SESSIONS_PER_KEY, 0, 1_000_000));
        var audit = new RelayConfig.Audit(v.intIn(Setting.AUDIT_QUEUE_SIZE, 100, 10_000_000));
        var queue = new RelayConfig.Queue(v.choice(Setting.RELAY_MODE, RelayConfig.RelayMode.class),
                v.intIn(Setting.QUEUE_WORKERS, 1, 1000), v.positiveDuration(Setting.QUEUE_LEASE),
                v.positiveDuration(Setting.QUEUE_POLL_INTERVAL), v.durations(Setting.QUEUE_RETRY_SCHEDULE),
                v.positiveDuration(Setting.QUEUE_MAX_AGE),
                v.nonNegativeDuration(Setting.QUEUE_DELAY_WARNING, Duration.ofDays(365)),
                v.nonNegativeDuration(Setting.QUEUE_FAILED_RETENTION, Duration.ofDays(3650)));
        var domains = new RelayConfig.SendingDomains(v.secretKey(Setting.DKIM_MASTER_KEY, 32),
                v.positiveDuration(Setting.SENDING_DOMAINS_RECHECK), v.servers(Setting.DNS_SERVERS, 53),
                v.positiveDuration(Setting.DNS_TIMEOUT),
                v.choice(Setting.SENDING_DOMAINS_REQUIRE, RelayConfig.RequireDomains.class),
                v.bool(Setting.SENDING_DOMAINS_CHECK_ENVELOPE), v.bool(Setting.DKIM_SIGN_UNVERIFIED));
        String node = v.optional(Setting.CLUSTER_NODE_NAME);
        var redis = new RelayConfig.Redis(v.redisUrl(Setting.CLUSTER_REDIS_URL), v.string(Setting.CLUSTER_REDIS_PASSWORD),
                v.positiveDuration(Setting.CLUSTER_REDIS_TIMEOUT), v.path(Setting.CLUSTER_REDIS_CA_FILE));
        var cluster = new RelayConfig.Cluster(node == null ? nodeToken(localHostName()) : v.nodeName(Setting.CLUSTER_NODE_NAME),
                redis);
        return new RelayConfig(dataDir, db, keys, smtp, downstream, cache, admin, log, limits, authLimits, audit,
                cluster, queue, domains);
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** A host name as a node name: its first label, other characters than letters, digits, '_' and '-' as '-', at most 63. */
    static String nodeToken(String host) {
        String label = host.indexOf('.') > 0 ? host.substring(0, host.indexOf('.')) : host;
        String t = label.replaceAll("[^A-Za-z0-9._-]", "-");
        t = t.length() > 63 ? t.substring(0, 63) : t;
        return t.isEmpty() || !Character.isLetterOrDigit(t.charAt(0)) ? "node" : t;
    }

    /** Renders the effective configuration as YAML with secrets masked, for {@code keyrelay config print}. */
    public static String print(Raw raw) {
        StringBuilder out = new StringBuilder();
        String section = "";
        for (Setting s : Setting.values()) {
            String key = s.key();
            int dot = key.lastIndexOf('.');
            String parent = dot < 0 ? "" : key.substring(0, dot);
            if (!parent.equals(section)) {
                String[] now = parent.isEmpty() ? new String[0] : parent.split("\\.");
                String[] before = section.isEmpty() ? new String[0] : section.split("\\.");
                int common = 0;
                while (common < now.length && common < before.length && now[common].equals(before[common])) {
                    common++;
                }
                for (int i = common; i < now.length; i++) {
                    out.append("  ".repeat(i)).append(now[i]).append(":\n");
                }
                section = parent;
            }
            String value = raw.get(s);
            if (s.secret()) {
                value = Secrets.mask(value);
            } else if (s == Setting.DB_URL) {
                value = Secrets.maskUrl(value);
            }
            int depth = parent.isEmpty() ? 0 : parent.split("\\.").length;
            out.append("  ".repeat(depth)).append(key.substring(dot + 1)).append(": ").append(yamlScalar(s, value));
            if (!raw.isSet(s)) {
                out.append("  # default");
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static String yamlScalar(Setting s, String value) {
        if (s == Setting.SMTP_AUTH_USERNAMES || s == Setting.SMTP_PROXY_TRUSTED || s == Setting.DNS_SERVERS) {
            List<String> items = Arrays.stream(value.split(",")).map(String::strip).filter(x -> !x.isEmpty())
                    .map(ConfigLoader::quote).toList();
            return "[" + String.join(", ", items) + "]";
        }
        return quote(value);
    }

    private static String quote(String v) {
        // A leading ':' (an IPv6 address such as ::1) is not a plain scalar to every YAML parser.
        if (v.isEmpty() || !v.matches("[A-Za-z0-9_./:@+-]+") || v.startsWith(":")
                || v.matches("(?i)true|false|yes|no|null|~|on|off")) {
            return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
        return v;
    }

    /** Typed access to raw values, each error naming its key. */
    private record Values(Raw raw) {
        String string(Setting s) {
            return raw.get(s).strip();
        }

        String optional(Setting s) {
            String v = string(s);
            return v.isEmpty() ? null : v;
        }

        Path path(Setting s) {
            String v = optional(s);
            return v == null ? null : Path.of(v);
        }

        int intIn(Setting s, int min, int max) {
            String v = string(s);
            long n;
            try {
                n = Ascii.parseLong(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(s.key(), show(v) + " is not a whole number");
            }
            if (n < min || n > max) {
                throw new ConfigException(s.key(), v + " is out of range (" + min + " to " + max + ")");
            }
            return (int) n;
        }

        int port(Setting s, boolean zeroAllowed) {
            String v = string(s);
            int n;
            try {
                n = Math.toIntExact(Ascii.parseLong(v));
            } catch (NumberFormatException | ArithmeticException e) {
                throw new ConfigException(s.key(), show(v) + " is not a valid port");
            }
            if (n < (zeroAllowed ? 0 : 1) || n > 65535) {
                throw new ConfigException(s.key(), v + " is not a valid port");
            }
            return n;
        }

        int optionalPort(Setting s) {
            return optional(s) == null ? 0 : port(s, true);
        }

        long sizeIn(Setting s, long min, long max) {
            String v = string(s);
            long n;
            try {
                n = Sizes.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.key(), show(v) + " " + e.getMessage());
            }
            if (n < min || n > max) {
                throw new ConfigException(s.key(), v + " is out of range (" + Sizes.format(min) + " to "
                        + Sizes.format(max) + ")");
            }
            return n;
        }

        Duration positiveDuration(Setting s) {
            String v = string(s);
            Duration d;
            try {
                d = Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.key(), show(v) + " " + e.getMessage());
            }
            if (d.isNegative() || d.isZero()) {
                throw new ConfigException(s.key(), v + " must be longer than zero");
            }
            return d;
        }

        /** A comma-separated list of positive durations; an error names the bad entry. */
        List<Duration> durations(Setting s) {
            List<Duration> out = new ArrayList<>();
            for (String item : list(s)) {
                try {
                    Duration d = Durations.parse(item);
                    if (d.isNegative() || d.isZero()) {
                        throw new IllegalArgumentException("must be longer than zero");
                    }
                    out.add(d);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(s.key(), item + " " + e.getMessage());
                }
            }
            return out;
        }

        /** A duration from zero (also written {@code 0}) to {@code max}. */
        Duration nonNegativeDuration(Setting s, Duration max) {
            String v = string(s);
            Duration d;
            try {
                d = v.equals("0") ? Duration.ZERO : Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.key(), show(v) + " " + e.getMessage());
            }
            if (d.isNegative() || d.compareTo(max) > 0) {
                throw new ConfigException(s.key(), v + " is out of range (0 to " + Durations.format(max) + ")");
            }
            return d;
        }

        /** A list of IP addresses and CIDR blocks; an error names the bad entry. */
        List<IpRange> ranges(Setting s) {
            try {
                return io.keyrelay.net.IpAllowlist.parse(list(s)).ranges();
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.key(), e.getMessage());
            }
        }

        /** {@code host} or {@code host:port} entries ({@code [v6]:port}; a bare IPv6 literal takes the default port). */
        List<java.net.InetSocketAddress> servers(Setting s, int defaultPort) {
            List<java.net.InetSocketAddress> out = new ArrayList<>();
            for (String item : list(s)) {
                String host = item;
                int port = defaultPort;
                int colon = item.lastIndexOf(':');
                if (item.startsWith("[")) {
                    int close = item.indexOf(']');
                    if (close < 0) {
                        throw new ConfigException(s.key(), "'" + item + "' has no closing ]");
                    }
                    host = item.substring(1, close);
                    String rest = item.substring(close + 1);
                    if (!rest.isEmpty()) {
                        if (!rest.startsWith(":")) {
                            throw new ConfigException(s.key(), "'" + item + "' is not host or host:port");
                        }
                        port = serverPort(s, item, rest.substring(1));
                    }
                } else if (colon >= 0 && item.indexOf(':') == colon) {
                    host = item.substring(0, colon);
                    port = serverPort(s, item, item.substring(colon + 1));
                }
                if (!host.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]+")) {
                    throw new ConfigException(s.key(), "'" + item + "' is not a host name or address");
                }
                java.net.InetSocketAddress a = new java.net.InetSocketAddress(host, port);
                if (a.isUnresolved()) {
                    throw new ConfigException(s.key(), "'" + item + "': " + host + " cannot be resolved");
                }
                out.add(a);
            }
            return out;
        }

        private static int serverPort(Setting s, String item, String text) {
            long p = Ascii.parseDigits(text, 5);
            if (p < 1 || p > 65535) {
                throw new ConfigException(s.key(), "'" + item + "' has no valid port");
            }
            return (int) p;
        }

        /** Base64 of exactly {@code bytes} bytes, or null when unset; an error never shows the value. */
        String secretKey(Setting s, int bytes) {
            String v = optional(s);
            if (v == null) {
                return null;
            }
            byte[] raw;
            try {
                raw = java.util.Base64.getDecoder().decode(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.key(), "is not base64 (make one with: openssl rand -base64 " + bytes + ")");
            }
            if (raw.length != bytes) {
                throw new ConfigException(s.key(), "is " + raw.length + " bytes, not " + bytes
                        + " (make one with: openssl rand -base64 " + bytes + ")");
            }
            return v;
        }

        boolean bool(Setting s) {
            String v = Ascii.toLowerCase(string(s));
            return switch (v) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw new ConfigException(s.key(), show(raw.get(s)) + " is not true or false");
            };
        }

        <E extends Enum<E>> E choice(Setting s, Class<E> type) {
            String v = string(s);
            for (E e : type.getEnumConstants()) {
                if (Ascii.equalsIgnoreCase(e.name(), v)) {
                    return e;
                }
            }
            List<String> names = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
            throw new ConfigException(s.key(), show(v) + " is not one of " + String.join(", ", names));
        }

        List<String> list(Setting s) {
            return Arrays.stream(string(s).split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
        }

        InetAddress address(Setting s) {
            String v = string(s);
            String literal = v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v;
            if (Ascii.equalsIgnoreCase(literal, "localhost")) {
                literal = "127.0.0.1";
            }
            try {
                return InetAddress.getByAddress(IpLiteral.parse(literal));
            } catch (IllegalArgumentException | UnknownHostException e) {
                throw new ConfigException(s.key(), show(v) + " is not an IP address (write 0.0.0.0, ::, 127.0.0.1 …)");
            }
        }

        String hostname(Setting s) {
            String v = string(s);
            if (!v.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\\[?[0-9A-Fa-f:.]+]?")) {
                throw new ConfigException(s.key(), show(v) + " is not a host name or address");
            }
            return v;
        }

        /** A redis:// or rediss:// URL without a password in it (that is a secret setting of its own). */
        String redisUrl(Setting s) {
            String v = optional(s);
            if (v == null) {
                return null;
            }
            java.net.URI u;
            try {
                u = new java.net.URI(v);
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(s.key(), "is not a URL: " + e.getReason());
            }
            if (!"redis".equals(u.getScheme()) && !"rediss".equals(u.getScheme())) {
                throw new ConfigException(s.key(), "must start with redis:// or rediss:// (TLS)");
            }
            if (u.getHost() == null) {
                throw new ConfigException(s.key(), "names no host (redis://host:6379)");
            }
            if (u.getRawUserInfo() != null && u.getRawUserInfo().contains(":")) {
                throw new ConfigException(s.key(), "must not hold a password: put it in "
                        + Setting.CLUSTER_REDIS_PASSWORD.key() + " (a secret setting)");
            }
            return v;
        }

        String nodeName(Setting s) {
            String v = string(s);
            if (!v.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
                throw new ConfigException(s.key(), show(v) + " is not a node name (letters, digits, '.', '_' and '-',"
                        + " starting with a letter or digit, at most 63)");
            }
            return v;
        }

        private static String show(String v) {
            return v.isEmpty() ? "(empty)" : v;
        }
    }
}
