package io.keyrelay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("keyrelay.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void defaults_areUsableWithoutFileOrEnvironment() {
        RelayConfig c = ConfigLoader.load(null, Map.of());
        assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(c.db().url()).isNull();
        assertThat(c.smtp().port()).isEqualTo(587);
        assertThat(c.smtp().implicitTlsPort()).isZero();
        assertThat(c.smtp().auth().plaintext()).isEqualTo(RelayConfig.PlaintextAuth.NEVER);
        assertThat(c.smtp().auth().usernames()).containsExactly("SMTP_Injection");
        assertThat(c.smtp().maxMessageSize()).isEqualTo(50L << 20);
        assertThat(c.downstream().configured()).isFalse();
        assertThat(c.downstream().tls()).isEqualTo(RelayConfig.DownstreamTls.STARTTLS);
        assertThat(c.cache().ttl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.admin().listen().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(c.admin().port()).isEqualTo(8080);
    }

    @Test
    void file_nestedKeysAndLists_areRead() throws Exception {
        Path f = yaml("""
                data_dir: /var/lib/keyrelay
                db:
                  url: jdbc:postgresql://db:5432/keyrelay
                  pool_size: 20
                smtp:
                  port: 2525
                  auth:
                    plaintext: loopback
                    usernames: [SMTP_Injection, relay]
                  max_message_size: 10MB
                cache:
                  ttl: 1h
                """);
        RelayConfig c = ConfigLoader.load(f, Map.of());
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/keyrelay"));
        assertThat(c.db().url()).isEqualTo("jdbc:postgresql://db:5432/keyrelay");
        assertThat(c.db().poolSize()).isEqualTo(20);
        assertThat(c.smtp().port()).isEqualTo(2525);
        assertThat(c.smtp().auth().plaintext()).isEqualTo(RelayConfig.PlaintextAuth.LOOPBACK);
        assertThat(c.smtp().auth().usernames()).containsExactly("SMTP_Injection", "relay");
        assertThat(c.smtp().maxMessageSize()).isEqualTo(10L << 20);
        assertThat(c.cache().ttl()).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void limitsAndAudit_defaultToUnlimitedAndTenThousand_andAreRead() {
        RelayConfig defaults = ConfigLoader.load(null, Map.of());
        assertThat(defaults.limits()).isEqualTo(new RelayConfig.Limits(0, 0, 16));
        assertThat(defaults.audit()).isEqualTo(new RelayConfig.Audit(10_000));
        RelayConfig set = ConfigLoader.load(null, Map.of("KEYRELAY_LIMITS_MESSAGES_PER_MINUTE", "120",
                "KEYRELAY_LIMITS_MESSAGES_PER_DAY", "5000", "KEYRELAY_AUDIT_QUEUE_SIZE", "500",
                "KEYRELAY_LIMITS_SESSIONS_PER_KEY", "0"));
        assertThat(set.limits()).isEqualTo(new RelayConfig.Limits(120, 5000, 0));
        assertThat(set.audit().queueSize()).isEqualTo(500);
    }

    @Test
    void environment_overridesFile() throws Exception {
        Path f = yaml("smtp:\n  port: 2525\n  tls:\n    cert: /a.pem\n    key: /a.key\n");
        RelayConfig c = ConfigLoader.load(f, Map.of(
                "KEYRELAY_SMTP_PORT", "2626",
                "KEYRELAY_SMTP_TLS_CERT", "/b.pem",
                "KEYRELAY_SMTP_AUTH_USERNAMES", "a, b",
                "KEYRELAY_DB_URL", "jdbc:postgresql://x/y"));
        assertThat(c.smtp().port()).isEqualTo(2626);
        assertThat(c.smtp().tls().cert()).isEqualTo(Path.of("/b.pem"));
        assertThat(c.smtp().tls().key()).isEqualTo(Path.of("/a.key"));
        assertThat(c.smtp().auth().usernames()).containsExactly("a", "b");
        assertThat(c.db().url()).isEqualTo("jdbc:postgresql://x/y");
    }

    @Test
    void proxyAndAuthLimits_areRead() throws Exception {
        Path f = yaml("""
                smtp:
                  proxy_protocol: any
                  proxy_trusted: [127.0.0.1, "10.1.0.0/16", "::ffff:192.0.2.0/120"]
                  shutdown_grace: 45s
                limits:
                  auth_failures: 3
                  auth_delay: 0
                """);
        RelayConfig c = ConfigLoader.load(f, Map.of());
        assertThat(c.smtp().proxy().mode()).isEqualTo(RelayConfig.ProxyProtocol.ANY);
        assertThat(c.smtp().proxy().trusted()).extracting(Object::toString)
                .containsExactly("127.0.0.1", "10.1.0.0/16", "192.0.2.0/24");
        assertThat(c.smtp().shutdownGrace()).isEqualTo(Duration.ofSeconds(45));
        assertThat(c.authLimits()).isEqualTo(new RelayConfig.AuthLimits(3, Duration.ofMinutes(5),
                Duration.ofMinutes(15), Duration.ZERO, 100_000));
        ConfigLoader.Raw raw = ConfigLoader.read(f, Map.of());
        assertThat(ConfigLoader.load(yaml(ConfigLoader.print(raw)), Map.of())).isEqualTo(c);
        assertThat(ConfigLoader.load(null, Map.of()).smtp().proxy().enabled()).isFalse();
    }

    @Test
    void envName_followsThePathRule() {
        assertThat(Setting.DB_URL.envName()).isEqualTo("KEYRELAY_DB_URL");
        assertThat(Setting.SMTP_TLS_CERT.envName()).isEqualTo("KEYRELAY_SMTP_TLS_CERT");
        assertThat(Setting.DATA_DIR.envName()).isEqualTo("KEYRELAY_DATA_DIR");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "KEYRELAY_SMTP_PORT|70000|smtp.port: 70000 is not a valid port",
        "KEYRELAY_SMTP_PORT|abc|smtp.port: abc is not a valid port",
        "KEYRELAY_DB_POOL_SIZE|0|db.pool_size: 0 is out of range (1 to 1000)",
        "KEYRELAY_SMTP_AUTH_PLAINTEXT|sometimes|smtp.auth.plaintext: sometimes is not one of never, loopback, always",
        "KEYRELAY_DOWNSTREAM_TLS|ssl|downstream.tls: ssl is not one of none, starttls, implicit",
        "KEYRELAY_CACHE_TTL|forever|cache.ttl: forever is not a duration",
        "KEYRELAY_CACHE_TTL|0s|cache.ttl: 0s must be longer than zero",
        "KEYRELAY_SMTP_MAX_MESSAGE_SIZE|lots|smtp.max_message_size: lots is not a size",
        "KEYRELAY_SMTP_MAX_MESSAGE_SIZE|3GB|smtp.max_message_size: 3GB is out of range",
        "KEYRELAY_SMTP_LISTEN|example.com|smtp.listen: example.com is not an IP address",
        "KEYRELAY_DOWNSTREAM_TLS_VERIFY|maybe|downstream.tls_verify: maybe is not true or false",
        "KEYRELAY_DB_URL|jdbc:mysql://h/db|db.url: jdbc:mysql://h/db is not a jdbc:postgresql:",
        "KEYRELAY_SMTP_AUTH_USERNAMES| , |smtp.auth.usernames: at least one username is required",
        "KEYRELAY_SMTP_IMPLICIT_TLS_PORT|465|smtp.implicit_tls_port: 465 needs smtp.tls.cert and smtp.tls.key",
        "KEYRELAY_SMTP_TLS_CERT|/c.pem|smtp.tls.key: is required when smtp.tls.cert is set",
        "KEYRELAY_CACHE_REFRESH|1h|cache.refresh: 1h must be shorter than cache.ttl (10m)",
        "KEYRELAY_DOWNSTREAM_PASSWORD|pw|downstream.username: is required when downstream.password is set",
        "KEYRELAY_ADMIN_TLS|true|admin.tls: true needs smtp.tls.cert and smtp.tls.key",
        "KEYRELAY_ADMIN_SESSION_TIMEOUT|0s|admin.session_timeout: 0s must be longer than zero",
        "KEYRELAY_LOG_FORMAT|xml|log.format: xml is not one of plain, json",
        "KEYRELAY_SMTP_PROXY_PROTOCOL|v3|smtp.proxy_protocol: v3 is not one of off, v1, v2, any",
        "KEYRELAY_SMTP_PROXY_PROTOCOL|v2|smtp.proxy_trusted: is required when smtp.proxy_protocol is v2",
        "KEYRELAY_SMTP_PROXY_TRUSTED|10.0.0.1/8|smtp.proxy_trusted: '10.0.0.1/8' has host bits set",
        "KEYRELAY_SMTP_PROXY_TRUSTED|haproxy.local|smtp.proxy_trusted: 'haproxy.local' is not an IP address",
        "KEYRELAY_SMTP_SHUTDOWN_GRACE|0s|smtp.shutdown_grace: 0s must be longer than zero",
        "KEYRELAY_SMTP_TLS_RELOAD_INTERVAL|never|smtp.tls.reload_interval: never is not a duration",
        "KEYRELAY_LIMITS_AUTH_FAILURES|0|limits.auth_failures: 0 is out of range (1 to 1000)",
        "KEYRELAY_LIMITS_AUTH_WINDOW|0s|limits.auth_window: 0s must be longer than zero",
        "KEYRELAY_LIMITS_AUTH_BAN|-1m|limits.auth_ban: -1m is not a duration",
        "KEYRELAY_LIMITS_AUTH_DELAY|2m|limits.auth_delay: 2m is out of range (0 to 1m)",
        "KEYRELAY_LIMITS_AUTH_TRACKED_ADDRESSES|10|limits.auth_tracked_addresses: 10 is out of range",
        "KEYRELAY_LIMITS_MESSAGES_PER_MINUTE|-1|limits.messages_per_minute: -1 is out of range (0 to 1000000000)",
        "KEYRELAY_LIMITS_MESSAGES_PER_DAY|lots|limits.messages_per_day: lots is not a whole number",
        "KEYRELAY_DNS_SERVERS|127.0.0.1:0|dns.servers: '127.0.0.1:0' has no valid port",
        "KEYRELAY_DNS_SERVERS|[::1|dns.servers: '[::1' has no closing ]",
        "KEYRELAY_DNS_SERVERS|dns_server|dns.servers: 'dns_server' is not a host name or address",
        "KEYRELAY_SENDING_DOMAINS_RECHECK|0s|sending_domains.recheck: 0s must be longer than zero",
        "KEYRELAY_DKIM_MASTER_KEY|c2hvcnQ=|dkim.master_key: is 5 bytes, not 32",
        "KEYRELAY_DKIM_MASTER_KEY|not base64!|dkim.master_key: is not base64",
        "KEYRELAY_AUDIT_QUEUE_SIZE|10|audit.queue_size: 10 is out of range (100 to 10000000)",
        "KEYRELAY_CLUSTER_NODE_NAME|node a|cluster.node_name: node a is not a node name",
        "KEYRELAY_CLUSTER_NODE_NAME|-a|cluster.node_name: -a is not a node name",
        "KEYRELAY_CLUSTER_REDIS_URL|http://r:6379|cluster.redis.url: must start with redis:// or rediss://",
        "KEYRELAY_CLUSTER_REDIS_URL|redis://:s3cret@r:6379|cluster.redis.url: must not hold a password: put it in"
                + " cluster.redis.password",
        "KEYRELAY_CLUSTER_REDIS_URL|redis:///0|cluster.redis.url: names no host",
        "KEYRELAY_CLUSTER_REDIS_TIMEOUT|0s|cluster.redis.timeout: 0s must be longer than zero",
        "KEYRELAY_CLUSTER_REDIS_CA_FILE|/ca.pem|cluster.redis.ca_file: is set, but cluster.redis.url is not a rediss://",
    })
    void badValue_failsNamingKeyAndValue(String env, String value, String message) {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(env, value)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void sendingDomains_dnsServersAndRecheck_areRead() {
        RelayConfig d = ConfigLoader.load(null, Map.of());
        assertThat(d.domains().dnsServers()).isEmpty();
        assertThat(d.domains().recheck()).isEqualTo(java.time.Duration.ofHours(24));
        assertThat(d.domains().masterKey()).isNull();
        RelayConfig c = ConfigLoader.load(null, Map.of("KEYRELAY_DNS_SERVERS", "127.0.0.1, 127.0.0.2:5353, [::1]:53,::1",
                "KEYRELAY_SENDING_DOMAINS_RECHECK", "1h", "KEYRELAY_DNS_TIMEOUT", "2s"));
        assertThat(c.domains().dnsServers()).extracting(a -> a.getAddress().getHostAddress() + "/" + a.getPort())
                .containsExactly("127.0.0.1/53", "127.0.0.2/5353", "0:0:0:0:0:0:0:1/53", "0:0:0:0:0:0:0:1/53");
        assertThat(c.domains().recheck()).isEqualTo(java.time.Duration.ofHours(1));
        assertThat(c.domains().dnsTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
    }

    @Test
    void nodeName_isRead_elseTheHostNamesFirstLabelAsAToken() {
        assertThat(ConfigLoader.load(null, Map.of("KEYRELAY_CLUSTER_NODE_NAME", "relay-2.eu")).cluster().nodeName())
                .isEqualTo("relay-2.eu");
        assertThat(ConfigLoader.load(null, Map.of()).cluster().nodeName()).matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
        assertThat(ConfigLoader.nodeToken("keyrelay-7d9f.cluster.local")).isEqualTo("keyrelay-7d9f");
        assertThat(ConfigLoader.nodeToken("we ird")).isEqualTo("we-ird");
        assertThat(ConfigLoader.nodeToken("")).isEqualTo("node");
    }

    @Test
    void redis_isOffByDefault_andReadWithItsSecretPassword() {
        assertThat(ConfigLoader.load(null, Map.of()).cluster().redis().configured()).isFalse();
        var redis = ConfigLoader.load(null, Map.of("KEYRELAY_CLUSTER_REDIS_URL", "rediss://relay@redis.internal:6380/2",
                "KEYRELAY_CLUSTER_REDIS_PASSWORD", "pw", "KEYRELAY_CLUSTER_REDIS_TIMEOUT", "100ms")).cluster().redis();
        assertThat(redis.url()).isEqualTo("rediss://relay@redis.internal:6380/2");
        assertThat(redis.password()).isEqualTo("pw");
        assertThat(redis.timeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(ConfigLoader.print(ConfigLoader.read(null, Map.of("KEYRELAY_CLUSTER_REDIS_PASSWORD", "pw"))))
                .contains("password: \"****\"").doesNotContain("pw\n");
    }

    @Test
    void unknownFileKey_isAnError_withSuggestion() throws Exception {
        Path f = yaml("smtp:\n  prot: 25\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("smtp.prot: unknown configuration key; did you mean smtp.port?");
    }

    @Test
    void mappingWhereValueExpected_isAnError() throws Exception {
        Path f = yaml("smtp:\n  port:\n    value: 25\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of())).hasMessage("smtp.port: expects a value, not a mapping");
    }

    @Test
    void brokenYaml_namesTheFileAndLine() throws Exception {
        Path f = yaml("smtp:\n  port: [25\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config: " + f + " is not valid YAML at line 3, column 1: expected ',' or ']', but got"
                        + " <stream end> (while parsing a flow sequence at line 2, column 9)");
    }

    @Test
    void missingFile_isAnError() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), Map.of()))
                .hasMessageContaining("nope.yaml does not exist");
    }

    @Test
    void unknownEnvironmentVariable_isAWarningNotAnError() {
        ConfigLoader.Raw raw = ConfigLoader.read(null, Map.of("KEYRELAY_DB_URI", "x"));
        assertThat(raw.warnings()).singleElement().asString().contains("KEYRELAY_DB_URI");
        ConfigLoader.build(raw);
    }

    @Test
    void print_masksSecrets_andPasswordsInUrls() {
        ConfigLoader.Raw raw = ConfigLoader.read(null, Map.of(
                "KEYRELAY_DB_PASSWORD", "hunter2",
                "KEYRELAY_KEYS_PEPPER", "pepper-secret",
                "KEYRELAY_DOWNSTREAM_USERNAME", "relay",
                "KEYRELAY_DOWNSTREAM_PASSWORD", "downstream-secret",
                "KEYRELAY_DKIM_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                "KEYRELAY_DB_URL", "jdbc:postgresql://db/k?user=k&password=url-secret"));
        String printed = ConfigLoader.print(raw);
        assertThat(printed).doesNotContain("hunter2", "pepper-secret", "downstream-secret", "url-secret",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
        assertThat(printed).contains("master_key: \"****\"");
        assertThat(printed).contains("password: \"****\"", "pepper: \"****\"", "password=****");
        assertThat(printed).contains("port: 587  # default");
    }

    @Test
    void print_outputIsValidConfig_thatLoadsBackToTheSameValues() throws Exception {
        ConfigLoader.Raw raw = ConfigLoader.read(null, Map.of("KEYRELAY_SMTP_PORT", "2525",
                "KEYRELAY_SMTP_AUTH_USERNAMES", "a,b"));
        Path f = yaml(ConfigLoader.print(raw));
        RelayConfig back = ConfigLoader.load(f, Map.of());
        assertThat(back.smtp().port()).isEqualTo(2525);
        assertThat(back.smtp().auth().usernames()).containsExactly("a", "b");
        assertThat(back).isEqualTo(ConfigLoader.build(raw));
    }

    @Test
    void exampleFile_documentsEveryKeyWithItsDefault() throws Exception {
        String example = Files.readString(Path.of("config/keyrelay.yaml"));
        for (Setting s : Setting.values()) {
            String leaf = s.key().substring(s.key().lastIndexOf('.') + 1);
            assertThat(example).as("config/keyrelay.yaml documents %s", s.key())
                    .containsPattern("(?m)^\\s*#?\\s*" + java.util.regex.Pattern.quote(leaf) + ":");
        }
        // Loading the example as shipped must give exactly the defaults.
        assertThat(ConfigLoader.read(Path.of("config/keyrelay.yaml"), Map.of()).explicit()).isEmpty();
    }

    @Test
    void configurationDocs_holdTheTableGeneratedFromSetting() throws Exception {
        String page = Files.readString(Path.of("docs/configuration.md"));
        assertThat(SettingsTable.replaceIn(page))
                .as("docs/configuration.md's settings table is not what Setting.java generates; regenerate it with"
                        + " `scripts/keyrelay config docs --update docs/configuration.md` (the table it expects:%n%s)",
                        SettingsTable.markdown())
                .isEqualTo(page);
        for (Setting s : Setting.values()) {
            assertThat(page).as("docs/configuration.md documents %s", s.key())
                    .contains("| `" + s.key() + "` | `" + s.envName() + "` |");
        }
    }

    @Test
    void durationsAndSizes_parseAndFormat() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("PT5M")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofMinutes(5))).isEqualTo("5m");
        assertThat(Sizes.parse("50MiB")).isEqualTo(50L << 20);
        assertThat(Sizes.parse("512 KB")).isEqualTo(512L << 10);
        assertThat(Sizes.parse("1048576")).isEqualTo(1L << 20);
        assertThat(Sizes.format(50L << 20)).isEqualTo("50MiB");
    }

    @Test
    void maskUrl_hidesUserinfoPassword() {
        assertThat(Secrets.maskUrl("jdbc:postgresql://u:pw@h/db")).isEqualTo("jdbc:postgresql://u:****@h/db");
    }
}
