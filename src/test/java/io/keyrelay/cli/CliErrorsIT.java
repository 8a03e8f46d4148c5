package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.testing.ProcessRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user's terminal shows for bad input, from the real {@code keyrelay} process: one line starting
 * {@code keyrelay:} naming the flag as typed, one line pointing at {@code --help}, and the documented exit code.
 */
class CliErrorsIT {
    @TempDir
    Path dir;

    private ProcessRun keyrelay(String... args) {
        return ProcessRun.keyrelay(dir, Map.of("KEYRELAY_DATA_DIR", dir.resolve("data").toString()), args);
    }

    private static void assertUsageError(ProcessRun r, String message, String command) {
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stdout()).as(r.describe()).isEmpty();
        assertThat(r.stderr().lines().toList()).as(r.describe())
                .containsExactly("keyrelay: " + message, "keyrelay: see '" + command + " --help'");
    }

    @Test
    void badLimitValue_namesTheFlagAsTyped() {
        assertUsageError(keyrelay("keys", "create", "--label", "app", "--grant", "smtp/inject",
                "--messages-per-minute", "lots"),
                "--messages-per-minute: 'lots' is not a whole number or \"unlimited\"", "keyrelay keys create");
    }

    @Test
    void expiryInThePast_isSaidInTheUsersWords() {
        assertUsageError(keyrelay("keys", "create", "--label", "app", "--grant", "smtp/inject", "--expires",
                "2020-01-01"), "--expires: 2020-01-01 is in the past", "keyrelay keys create");
    }

    @Test
    void everyBadAllowedIp_isReportedAtOnce() {
        assertUsageError(keyrelay("keys", "create", "--label", "app", "--grant", "smtp/inject",
                "--allowed-ip", "10.0.0.300,192.0.2.0/24", "--allowed-ip", "2001:db8::/129"),
                "--allowed-ip: 2 entries are not valid: '10.0.0.300' is not an IP address or CIDR block;"
                        + " '2001:db8::/129' has a prefix longer than 128 bits", "keyrelay keys create");
    }

    @Test
    void misspelledSubcommand_andOption_getDidYouMean() {
        assertUsageError(keyrelay("kyes", "list"), "'kyes' is not a keyrelay command; did you mean 'keys'?",
                "keyrelay");
        assertUsageError(keyrelay("keys", "lsit"), "'lsit' is not a keyrelay keys command; did you mean 'list'?",
                "keyrelay keys");
        assertUsageError(keyrelay("keys", "create", "--labl", "app", "--grant", "smtp/inject"),
                "unknown option '--labl'; did you mean '--label'?", "keyrelay keys create");
        assertUsageError(keyrelay("keys", "create", "--grant", "smtp/inject"), "missing --label LABEL",
                "keyrelay keys create");
        assertUsageError(keyrelay("keys", "list", "--subaccount", "seven"), "--subaccount: 'seven' is not a whole number",
                "keyrelay keys list");
    }

    @Test
    void configFile_isTakenBeforeOrAfterTheSubcommand() throws Exception {
        Path config = dir.resolve("relay.yaml");
        Files.writeString(config, "smtp:\n  port: 2599\n", StandardCharsets.UTF_8);
        for (ProcessRun r : new ProcessRun[] {keyrelay("--config", config.toString(), "config", "print"),
                keyrelay("config", "print", "--config", config.toString()),
                keyrelay("-c", config.toString(), "config", "print")}) {
            assertThat(r.exitCode()).as(r.describe()).isZero();
            assertThat(r.stdout()).as(r.describe()).contains("port: 2599");
        }
        Path other = dir.resolve("other.yaml");
        Files.writeString(other, "", StandardCharsets.UTF_8);
        assertUsageError(keyrelay("--config", other.toString(), "config", "print", "--config", config.toString()),
                "--config: given twice, as " + other + " and as " + config, "keyrelay config print");
    }

    @Test
    void badYaml_namesFileLineAndColumn_onOneLine() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "smtp:\n port: 587\n  hostname: relay.example.com\n", StandardCharsets.UTF_8);
        ProcessRun r = keyrelay("--config", config.toString(), "config", "print");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr().lines().findFirst().orElseThrow()).isEqualTo("keyrelay: --config: " + config
                + " is not valid YAML at line 3, column 11: mapping values are not allowed here");
        assertThat(r.stderr().lines().skip(1).toList()).containsExactly("keyrelay: see 'keyrelay config print --help'");

        Files.writeString(config, "smtp:\n  port: 587\n  port: 2525\n", StandardCharsets.UTF_8);
        ProcessRun dup = keyrelay("--config", config.toString(), "config", "print");
        assertThat(dup.exitCode()).as(dup.describe()).isEqualTo(2);
        assertThat(dup.stderr()).as("a key given twice is an error, not the last one silently winning")
                .contains(config + " is not valid YAML at line 3").contains("'port'");
    }

    @Test
    void badConfigValue_namesTheKey_andPointsAtTheReference() {
        ProcessRun r = ProcessRun.keyrelay(dir, Map.of("KEYRELAY_DATA_DIR", dir.toString(), "KEYRELAY_SMTP_PORT",
                "70000"), "config", "print");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr().lines().toList()).containsExactly("keyrelay: smtp.port: 70000 is not a valid port",
                "keyrelay: every key is in docs/configuration.md; 'keyrelay config print' shows the effective values");
    }

    @Test
    void changingARevokedKey_isARuntimeError1_notUsage() throws Exception {
        ProcessRun created = keyrelay("keys", "create", "--label", "app", "--grant", "smtp/inject", "--json");
        assertThat(created.exitCode()).as(created.describe()).isZero();
        String id = new ObjectMapper().readTree(created.stdout()).get("id").asText();
        assertThat(keyrelay("keys", "revoke", id).exitCode()).isZero();
        ProcessRun r = keyrelay("keys", "update", id, "--label", "renamed");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.stderr().lines().toList()).containsExactly(
                "keyrelay: API key " + id + " is revoked and cannot be changed");
        ProcessRun missing = keyrelay("keys", "show", "no-such-key");
        assertThat(missing.exitCode()).as(missing.describe()).isEqualTo(1);
    }

    @Test
    void noSubcommand_printsTheCommandList_exit2() {
        ProcessRun r = keyrelay();
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr()).contains("Usage: keyrelay", "keys", "serve");
    }
}
