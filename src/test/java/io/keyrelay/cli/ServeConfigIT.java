package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keyrelay serve} refuses to start on a configuration that could not work, naming the key (exit 2). */
class ServeConfigIT {
    @TempDir
    Path dir;

    private String[] run(Map<String, String> env) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"serve"}, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void withoutDownstream_exits2_namingDownstreamHost() {
        String[] r = run(Map.of("KEYRELAY_DATA_DIR", dir.toString()));
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("downstream.host: is required for serve");
    }

    @Test
    void withoutCertificate_andNoPlaintextAuth_exits2_namingTheCertificateKey() {
        String[] r = run(Map.of("KEYRELAY_DATA_DIR", dir.toString(), "KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1"));
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("smtp.tls.cert: is required");
    }

    @Test
    void unreadableCertificate_failsWithTheFileNamed() {
        String[] r = run(Map.of("KEYRELAY_DATA_DIR", dir.toString(), "KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1",
                "KEYRELAY_SMTP_TLS_CERT", dir.resolve("missing-cert.pem").toString(),
                "KEYRELAY_SMTP_TLS_KEY", dir.resolve("missing-key.pem").toString(), "KEYRELAY_SMTP_PORT", "0"));
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("missing-cert.pem");
    }
}
