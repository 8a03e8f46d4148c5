package io.keyrelay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One real process run to its end: a command line, its environment (the test JVM's, without {@code KEYRELAY_*}
 * variables, plus the given ones), its exit code, stdout and stderr. For tests of what a user's shell sees.
 */
public record ProcessRun(List<String> command, int exitCode, String stdout, String stderr) {

    /** Runs {@code command} in {@code dir}; fails the test when it takes longer than {@code timeout}. */
    public static ProcessRun run(Path dir, Map<String, String> env, Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("keyrelay-run", ".out");
            Path err = Files.createTempFile("keyrelay-run", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().keySet().removeIf(k -> k.startsWith("KEYRELAY_"));
                pb.environment().putAll(env);
                Process p = pb.start();
                p.getOutputStream().close();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(command + " did not end within " + timeout);
                }
                return new ProcessRun(List.copyOf(command), p.exitValue(),
                        Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs {@code java -jar target/keyrelay.jar args} (the test JVM's java) in {@code dir}. */
    public static ProcessRun keyrelay(Path dir, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkeyrelay.command=keyrelay", "-jar",
                Path.of(System.getProperty("keyrelay.jar", "target/keyrelay.jar")).toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        return run(dir, env, Duration.ofSeconds(60), cmd);
    }

    /** stdout and stderr, labelled, for assertion messages. */
    public String describe() {
        return command + " exited " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
}
