package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keyrelay.testing.ProcessRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution tarball {@code mvn package} builds, unpacked with {@code tar} and run as an operator runs it:
 * {@code bin/keyrelay} as a real process, finding its Java by itself.
 */
class DistributionIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path unpacked;

    static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        Path tarball = Path.of(System.getProperty("keyrelay.dist", "target/keyrelay-0.1.0-SNAPSHOT.tar.gz"));
        assertThat(tarball).as("mvn package builds the distribution").exists();
        ProcessRun tar = ProcessRun.run(unpacked, Map.of(), TIMEOUT,
                List.of("tar", "xzf", tarball.toAbsolutePath().toString()));
        assertThat(tar.exitCode()).as(tar.describe()).isZero();
        try (var dirs = Files.list(unpacked)) {
            home = dirs.filter(p -> p.getFileName().toString().startsWith("keyrelay-")).findFirst().orElseThrow();
        }
    }

    private static Map<String, String> javaHome() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"));
    }

    @Test
    void tarball_holdsLauncherJarConfigAndUnit() throws Exception {
        assertThat(home.getFileName().toString()).matches("keyrelay-\\d+\\.\\d+\\.\\d+.*");
        assertThat(Files.getPosixFilePermissions(home.resolve("bin/keyrelay")))
                .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        assertThat(home.resolve("lib/keyrelay.jar")).isRegularFile();
        assertThat(home.resolve("config/keyrelay.yaml")).isRegularFile();
        assertThat(home.resolve("config/logback.xml")).isRegularFile();
        assertThat(home.resolve("docs/configuration.md")).as("the README's links resolve").isRegularFile();
        String unit = Files.readString(home.resolve("keyrelay.service"), StandardCharsets.UTF_8);
        assertThat(unit).contains("User=keyrelay", "Restart=on-failure", "ProtectSystem=strict",
                "NoNewPrivileges=true", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ReadWritePaths=/var/lib/keyrelay");
        assertThat(unit).containsPattern("(?m)^ExecStart=/opt/keyrelay/bin/keyrelay .*serve$");
    }

    @Test
    void unit_stopTimeout_outlastsTheShutdownGrace() throws Exception {
        String unit = Files.readString(home.resolve("keyrelay.service"), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^TimeoutStopSec=(\\d+)$").matcher(unit);
        assertThat(m.find()).as(unit).isTrue();
        Duration grace = io.keyrelay.config.Durations.parse(io.keyrelay.config.Setting.SMTP_SHUTDOWN_GRACE.defaultValue());
        assertThat(Duration.ofSeconds(Long.parseLong(m.group(1)))).isGreaterThan(grace.plusSeconds(10));
    }

    @Test
    void binKeyrelay_version_andConfigPrint_runWithTheJavaItFinds() {
        ProcessRun version = ProcessRun.run(home, javaHome(), TIMEOUT, List.of("bin/keyrelay", "--version"));
        assertThat(version.exitCode()).as(version.describe()).isZero();
        assertThat(version.stdout().strip()).matches("keyrelay \\d+\\.\\d+\\.\\d+\\S*");

        ProcessRun print = ProcessRun.run(home, Map.of("JAVA_HOME", System.getProperty("java.home"),
                "KEYRELAY_SMTP_PORT", "2526"), TIMEOUT,
                List.of("bin/keyrelay", "--config", "config/keyrelay.yaml", "config", "print"));
        assertThat(print.exitCode()).as(print.describe()).isZero();
        assertThat(print.stdout()).contains("port: 2526").contains("data_dir:");
        assertThat(print.stderr()).isEmpty();
    }

    @Test
    void binKeyrelay_passesOverAnOldJavaHome_toANewerJava() throws Exception {
        Path old = unpacked.resolve("old-home/bin");
        Files.createDirectories(old);
        Path java = old.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"17.0.9\" 2023-10-17' >&2\n");
        java.toFile().setExecutable(true);
        Path jvms = Path.of(System.getProperty("java.home")).getParent();
        ProcessRun r = ProcessRun.run(home, Map.of("JAVA_HOME", old.getParent().toString(), "PATH", "/usr/bin:/bin",
                "KEYRELAY_JVM_DIRS", jvms.toString()), TIMEOUT, List.of("bin/keyrelay", "--version"));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).startsWith("keyrelay ");
    }

    @Test
    void binKeyrelay_namesItselfKeyrelay_inItsMessages() {
        ProcessRun bad = ProcessRun.run(home, javaHome(), TIMEOUT, List.of("bin/keyrelay", "keys", "lsit"));
        assertThat(bad.exitCode()).as(bad.describe()).isEqualTo(2);
        assertThat(bad.stderr().lines().toList()).containsExactly(
                "keyrelay: 'lsit' is not a keyrelay keys command; did you mean 'list'?",
                "keyrelay: see 'keyrelay keys --help'");
        ProcessRun help = ProcessRun.run(home, javaHome(), TIMEOUT, List.of("bin/keyrelay", "--help"));
        assertThat(help.stdout()).startsWith("Usage: keyrelay ").doesNotContain("java -jar");
    }

    @Test
    void binKeyrelay_throughASymlink_findsItsHome() throws Exception {
        Path link = unpacked.resolve("keyrelay-link");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, home.resolve("bin/keyrelay"));
        ProcessRun version = ProcessRun.run(unpacked, javaHome(), TIMEOUT, List.of(link.toString(), "--version"));
        assertThat(version.exitCode()).as(version.describe()).isZero();
    }

    @Test
    void binKeyrelay_withoutJava21_saysWhichJavaItNeeds() throws Exception {
        Path old = unpacked.resolve("old-jdk/bin");
        Files.createDirectories(old);
        Path java = old.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"17.0.9\" 2023-10-17' >&2\n");
        java.toFile().setExecutable(true);
        ProcessRun none = ProcessRun.run(home, Map.of("JAVA_HOME", old.getParent().toString(),
                "PATH", old + ":/usr/bin:/bin", "KEYRELAY_JVM_DIRS", unpacked.resolve("no-such-dir").toString()),
                TIMEOUT, List.of("bin/keyrelay", "--version"));
        assertThat(none.exitCode()).as(none.describe()).isEqualTo(1);
        assertThat(none.stdout()).isEmpty();
        assertThat(none.stderr()).startsWith("keyrelay: needs Java 21 or newer")
                .contains(java + " is Java 17").contains("KEYRELAY_JAVA_HOME");
    }

    @Test
    void unit_passesSystemdAnalyzeVerify() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
        // The unit names /opt/keyrelay; verify it where the tarball was unpacked (it checks ExecStart exists).
        Path unit = unpacked.resolve("keyrelay.service");
        Files.writeString(unit, Files.readString(home.resolve("keyrelay.service"), StandardCharsets.UTF_8)
                .replace("/opt/keyrelay", home.toString()), StandardCharsets.UTF_8);
        ProcessRun verify = ProcessRun.run(unpacked, Map.of(), TIMEOUT,
                List.of(analyze.toString(), "verify", unit.toString()));
        assertThat(verify.exitCode()).as(verify.describe()).isZero();
        assertThat(verify.stderr()).doesNotContain("Unknown key", "Invalid", "Failed");
    }
}
