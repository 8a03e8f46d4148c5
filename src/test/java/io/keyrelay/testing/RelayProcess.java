package io.keyrelay.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * keyrelay run as a real separate process from {@code target/keyrelay.jar}, as an operator runs it: for tests of
 * heap use, signals, dev mode's first start and cross-process key changes. Its output lines are collected.
 */
public final class RelayProcess implements AutoCloseable {
    private final Process process;
    private final List<String> out = new CopyOnWriteArrayList<>();
    private final List<String> err = new CopyOnWriteArrayList<>();

    private RelayProcess(Process p) {
        this.process = p;
        pump(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)), out);
        pump(new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8)), err);
    }

    /** Starts {@code java [jvmArgs] -jar keyrelay.jar args} in {@code workDir} with extra environment. */
    public static RelayProcess start(Path workDir, List<String> jvmArgs, Map<String, String> env, String... args) {
        return start(workDir, jvmArgs, env, false, args);
    }

    /**
     * Like {@link #start}, with stderr joined to stdout in one pipe, in the order the process wrote them (a
     * terminal's view): {@link #stdout()} holds every line and {@link #stderr()} none.
     */
    public static RelayProcess startMerged(Path workDir, List<String> jvmArgs, Map<String, String> env,
            String... args) {
        return start(workDir, jvmArgs, env, true, args);
    }

    private static RelayProcess start(Path workDir, List<String> jvmArgs, Map<String, String> env, boolean merged,
            String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(Path.of(System.getProperty("keyrelay.jar", "target/keyrelay.jar")).toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(merged);
        pb.environment().keySet().removeIf(k -> k.startsWith("KEYRELAY_"));
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            return new RelayProcess(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void pump(BufferedReader r, List<String> sink) {
        Thread.ofVirtual().start(() -> {
            try (r) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.add(line);
                }
            } catch (IOException e) {
                // process ended
            }
        });
    }

    /** Waits until an output line (stdout or stderr) matches; fails with the output so far if it does not come. */
    public String awaitLine(Predicate<String> match, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            for (List<String> l : List.of(out, err)) {
                for (String s : l) {
                    if (match.test(s)) {
                        return s;
                    }
                }
            }
            if (!process.isAlive() && System.nanoTime() > end - timeout.toNanos() / 2) {
                break;
            }
            try {
                Thread.sleep(50); // polling a child process's output; no event to wait on
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("no matching output within " + timeout + "; stdout=" + out + " stderr=" + err);
    }

    public List<String> stdout() {
        return out;
    }

    public List<String> stderr() {
        return err;
    }

    public Process process() {
        return process;
    }

    /**
     * Sends SIGTERM, without waiting. Through the {@link ProcessHandle}: {@code Process.destroy()} also closes the
     * process's output pipes on our side, and what it logs while shutting down would be lost.
     */
    public void sigterm() {
        process.toHandle().destroy();
    }

    /** Sends SIGTERM and waits for the exit code. */
    public int terminate(Duration timeout) {
        sigterm();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("keyrelay did not stop within " + timeout + " after SIGTERM");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@code kill -9}: SIGKILL (what {@code destroyForcibly} sends on Linux), then waits for the process to be gone. */
    public void kill9() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("keyrelay still running 10 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
