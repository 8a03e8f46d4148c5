package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@code keyrelay keys …} commands, on H2 and PostgreSQL, in-process and as a real second process. */
class KeysCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void createListShowUpdateRevoke_roundTrip_andTheKeyIsPrintedOnlyOnce(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = db.env();
            Result created = run(env, "keys", "create", "--label", "app one", "--grant", "smtp/inject,api_keys/view",
                    "--allowed-ip", "127.0.0.2", "--allowed-ip", "2001:db8::/32", "--subaccount", "7",
                    "--expires", "2099-01-01", "--json");
            assertThat(created.code()).as(created.err()).isZero();
            JsonNode c = JSON.readTree(created.out());
            String key = c.get("key").asText();
            String id = c.get("id").asText();
            assertThat(key).matches("[0-9a-f]{40}");
            assertThat(c.get("short_key").asText()).isEqualTo(key.substring(0, 4));
            assertThat(c.get("label").asText()).isEqualTo("app one");
            assertThat(c.get("grants")).extracting(JsonNode::asText).containsExactly("api_keys/view", "smtp/inject");
            assertThat(c.get("valid_ips")).extracting(JsonNode::asText).containsExactly("127.0.0.2", "2001:db8::/32");
            assertThat(c.get("subaccount_id").asLong()).isEqualTo(7);
            assertThat(c.get("expires_at").asText()).isEqualTo("2099-01-01T00:00:00Z");
            assertThat(created.out().lines().count()).as("one JSON object").isEqualTo(1);

            Result list = run(env, "keys", "list", "--json");
            assertThat(list.code()).isZero();
            assertThat(list.out()).doesNotContain(key).contains(id).doesNotContain("hash");
            assertThat(run(env, "keys", "create", "--label", "billing notifications for the EU storefronts",
                    "--grant", "api_keys/manage,api_keys/view,metrics/view,smtp/inject,transmissions/modify,"
                            + "transmissions/view", "--allowed-ip", "192.0.2.0/24,198.51.100.0/24,2001:db8:1234::/48",
                    "--subaccount", "123456", "--expires", "30d", "--messages-per-minute", "100").code()).isZero();
            Result table = run(env, "keys", "list");
            assertThat(table.out()).contains("app one", key.substring(0, 4), "active").doesNotContain(key);
            assertThat(table.out().lines()).as("fits a 120-column terminal").allSatisfy(l -> assertThat(l.length())
                    .isLessThanOrEqualTo(120));

            Result show = run(env, "keys", "show", id, "--json");
            assertThat(show.out()).doesNotContain(key);
            assertThat(JSON.readTree(show.out()).get("status").asText()).isEqualTo("active");

            Result upd = run(env, "keys", "update", id, "--label", "app two", "--grant", "smtp/inject",
                    "--clear-allowed-ips", "--no-expiry", "--json");
            assertThat(upd.code()).as(upd.err()).isZero();
            JsonNode u = JSON.readTree(upd.out());
            assertThat(u.get("label").asText()).isEqualTo("app two");
            assertThat(u.get("valid_ips")).isEmpty();
            assertThat(u.get("expires_at").isNull()).isTrue();

            Result rev = run(env, "keys", "revoke", id);
            assertThat(rev.code()).isZero();
            assertThat(rev.out()).contains("Revoked API key " + id);
            assertThat(JSON.readTree(run(env, "keys", "show", id, "--json").out()).get("status").asText())
                    .isEqualTo("revoked");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void limits_areSetOnCreate_changedOneByOneOnUpdate_andPutBackToDefault(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = db.env();
            Result created = run(env, "keys", "create", "--label", "limited", "--grant", "smtp/inject",
                    "--messages-per-minute", "100", "--messages-per-day", "unlimited", "--max-message-size", "10MiB",
                    "--json");
            assertThat(created.code()).as(created.err()).isZero();
            JsonNode limits = JSON.readTree(created.out()).get("limits");
            assertThat(limits.get("messages_per_minute").asLong()).isEqualTo(100);
            assertThat(limits.get("messages_per_day").asLong()).as("0 = unlimited").isZero();
            assertThat(limits.get("max_recipients").isNull()).as("the relay's default").isTrue();
            assertThat(limits.get("max_message_size").asLong()).isEqualTo(10L << 20);
            String id = JSON.readTree(created.out()).get("id").asText();
            assertThat(run(env, "keys", "show", id).out()).contains(
                    "limits:        messages_per_minute=100 messages_per_day=unlimited max_message_size=10MiB"
                            + " (others: relay defaults)");

            Result upd = run(env, "keys", "update", id, "--max-recipients", "5", "--messages-per-minute", "default",
                    "--sessions-per-key", "unlimited", "--json");
            assertThat(upd.code()).as(upd.err()).isZero();
            JsonNode u = JSON.readTree(upd.out()).get("limits");
            assertThat(u.get("messages_per_minute").isNull()).isTrue();
            assertThat(u.get("messages_per_day").asLong()).as("left as it was").isZero();
            assertThat(u.get("max_recipients").asLong()).isEqualTo(5);
            assertThat(u.get("sessions_per_key").asLong()).as("0 = unlimited").isZero();
            assertThat(JSON.readTree(run(env, "keys", "update", id, "--sessions-per-key", "3", "--json").out())
                    .get("limits").get("sessions_per_key").asLong()).isEqualTo(3);
            assertThat(run(env, "keys", "show", id).out()).contains("messages_per_day=unlimited max_recipients=5"
                    + " max_message_size=10MiB");

            Result bad = run(env, "keys", "update", id, "--max-recipients", "0");
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err().lines().toList()).containsExactly(
                    "keyrelay: --max-recipients: 0 is out of range (1 to 100000)",
                    "keyrelay: see 'keyrelay keys update --help'");
            Result badSize = run(env, "keys", "create", "--label", "x", "--grant", "smtp/inject",
                    "--max-message-size", "huge");
            assertThat(badSize.code()).isEqualTo(2);
            assertThat(badSize.err()).contains("'huge' is not a size");
        }
    }

    @Test
    void exitCodes_usage2_validation2_runtime1() {
        Map<String, String> env = Map.of("KEYRELAY_DATA_DIR", dir.toString());
        assertThat(run(env, "keys", "create", "--label", "x").code()).as("missing --grant").isEqualTo(2);
        Result badGrant = run(env, "keys", "create", "--label", "x", "--grant", "smtp/send");
        assertThat(badGrant.code()).isEqualTo(2);
        assertThat(badGrant.err()).contains("unknown grant 'smtp/send'").contains("smtp/inject");
        Result badIp = run(env, "keys", "create", "--label", "x", "--grant", "smtp/inject", "--allowed-ip", "10.0.0.300");
        assertThat(badIp.code()).isEqualTo(2);
        assertThat(badIp.err()).contains("'10.0.0.300'");
        Result badConfig = run(Map.of("KEYRELAY_SMTP_PORT", "70000"), "config", "print");
        assertThat(badConfig.code()).isEqualTo(2);
        assertThat(badConfig.err()).contains("smtp.port: 70000 is not a valid port");
        Result notFound = run(env, "keys", "show", "nope");
        assertThat(notFound.code()).isEqualTo(1);
        assertThat(notFound.err().strip()).isEqualTo("keyrelay: no API key with id nope");
        Result noUpdate = run(env, "keys", "update", "nope");
        assertThat(noUpdate.code()).isEqualTo(2);
        Result storeDown = run(Map.of("KEYRELAY_DB_URL", "jdbc:postgresql://127.0.0.1:1/none", "KEYRELAY_DB_USER", "x"),
                "keys", "list");
        assertThat(storeDown.code()).isEqualTo(1);
        assertThat(storeDown.err()).startsWith("keyrelay: cannot connect to the key store").hasLineCount(1);
    }

    @Test
    void configPrint_masksSecrets() {
        Result r = run(Map.of("KEYRELAY_DB_PASSWORD", "s3cret-db", "KEYRELAY_KEYS_PEPPER", "s3cret-pepper"),
                "config", "print");
        assertThat(r.code()).isZero();
        assertThat(r.out()).doesNotContain("s3cret").contains("password: \"****\"");
    }

    @Test
    void embeddedStore_isUsableFromASecondProcess_whileThisOneHoldsIt() throws Exception {
        // This JVM opens the H2 file as the relay would; a real second JVM runs the CLI against the same file.
        try (Database held = Database.open(new RelayConfig.Db(null, "", "", 2), dir)) {
            held.migrate();
            held.check();
            Process p = new ProcessBuilder(cliCommand("keys", "create", "--label", "from-cli", "--grant",
                    "smtp/inject", "--json"))
                    .redirectErrorStream(false)
                    .start();
            p.getOutputStream().close();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes());
            String err = new String(p.getErrorStream().readAllBytes());
            assertThat(p.exitValue()).as(err).isZero();
            String id = JSON.readTree(out).get("id").asText();
            var keys = new io.keyrelay.keys.JdbcKeyStore(held.dataSource()).findById(id);
            assertThat(keys).isPresent();
            assertThat(keys.get().label()).isEqualTo("from-cli");
        }
    }

    private List<String> cliCommand(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(System.getProperty("keyrelay.jar", "target/keyrelay.jar"));
        cmd.addAll(List.of(args));
        // The data dir goes in through the environment, as an operator would pass it.
        return wrapWithEnv(cmd);
    }

    private List<String> wrapWithEnv(List<String> cmd) {
        List<String> out = new ArrayList<>();
        out.add("env");
        out.add("KEYRELAY_DATA_DIR=" + dir);
        out.addAll(cmd);
        return out;
    }
}
