package io.keyrelay.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Python's dkimpy (Debian {@code python3-dkim}, with {@code python3-nacl} for Ed25519; {@code scripts/test}
 * installs them), run as the independent verifier of keyrelay's signatures through
 * {@code src/test/python/dkim_verify.py}, looking keys up in a real DNS server on loopback.
 */
public final class Dkimpy {
    private static final Path SCRIPT = Path.of("src/test/python/dkim_verify.py").toAbsolutePath();

    /** What the verifier said: exit code 0 when every signature verifies. */
    public record Verdict(int exitCode, String output) {
        public boolean verified() {
            return exitCode == 0;
        }
    }

    private Dkimpy() {}

    /** Debian's python3 (the one with its python3-dkim), else whatever python3 is on the PATH. */
    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Verifies every DKIM-Signature of the message in {@code message}, keys from DNS at 127.0.0.1:{@code dnsPort}. */
    public static Verdict verify(int dnsPort, Path message) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(python(), SCRIPT.toString(), Integer.toString(dnsPort), message.toString())
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("dkimpy did not finish within 120 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (text.contains("ModuleNotFoundError")) {
            throw new AssertionError("dkimpy is not installed (scripts/test installs python3-dkim): " + text);
        }
        return new Verdict(p.exitValue(), text);
    }
}
