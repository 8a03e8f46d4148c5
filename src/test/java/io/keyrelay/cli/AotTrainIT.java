package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Docker image's AOT cache: {@code scripts/aot-train} records one from a real training run (keyrelay dev under
 * load), the JVM accepts it with {@code -XX:AOTMode=on} (which refuses to start on a cache it cannot use), and the
 * Dockerfile trains with the entrypoint's JVM options and runs with the file it wrote.
 */
class AotTrainIT {
    private static final String OPTS = "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError";

    @TempDir
    Path dir;

    @Test
    void theTrainingRunWritesACacheThatTheJvmUses() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = System.getProperty("keyrelay.jar", "target/keyrelay.jar");
        Path cache = dir.resolve("keyrelay.aot");
        ProcessBuilder train = new ProcessBuilder("scripts/aot-train", cache.toString(), jar).redirectErrorStream(true);
        train.environment().put("JAVA", java);
        train.environment().put("AOT_JVM_OPTS", OPTS);
        Process p = train.start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("AOT cache in " + cache);
        assertThat(Files.size(cache)).isGreaterThan(1_000_000);

        Process run = new ProcessBuilder(List.of(java, "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError",
                "-XX:AOTCache=" + cache, "-XX:AOTMode=on", "-jar", jar, "--version")).redirectErrorStream(true).start();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String version = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(run.exitValue()).as(version).isZero();
        assertThat(version).startsWith("keyrelay ");
    }

    @Test
    void theDockerfileTrainsWithTheEntrypointsOptions_andRunsWithTheCacheItWrote() throws Exception {
        String docker = Files.readString(Path.of("Dockerfile"));
        Matcher trained = Pattern.compile("AOT_JVM_OPTS=\"([^\"]*)\"\\s*\\\\\\s*\\n\\s*/opt/keyrelay/aot-train (\\S+)")
                .matcher(docker);
        assertThat(trained.find()).as("the aot-train step").isTrue();
        Matcher entry = Pattern.compile("ENTRYPOINT \\[([^\\]]*)\\]", Pattern.DOTALL).matcher(docker);
        assertThat(entry.find()).isTrue();
        assertThat(entry.group(1)).contains("\"-XX:AOTCache=" + trained.group(2) + "\"");
        for (String opt : trained.group(1).split(" ")) {
            assertThat(entry.group(1)).contains("\"" + opt + "\"");
        }
    }
}
