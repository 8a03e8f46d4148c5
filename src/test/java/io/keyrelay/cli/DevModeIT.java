package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import io.keyrelay.tls.TlsContexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keyrelay dev} as a newcomer runs it: nothing configured, nothing else installed. */
class DevModeIT {
    @TempDir
    Path dir;

    @Test
    void firstStart_printsAKeyOnce_capturesMailToTheOutbox_andTheSecondStartDoesNotPrintAKey() throws Exception {
        int port = FreePorts.pick();
        Map<String, String> env = Map.of("KEYRELAY_SMTP_PORT", Integer.toString(port), "KEYRELAY_ADMIN_PORT", "0",
                "KEYRELAY_CLUSTER_NODE_NAME", "dev-1");
        String key;
        String masterKeyText;
        try (RelayProcess dev = RelayProcess.start(dir, List.of(), env, "dev")) {
            dev.awaitLine(l -> l.contains("Stop with Ctrl-C."), Duration.ofSeconds(60));
            String out = String.join("\n", dev.stdout());
            Matcher m = Pattern.compile("(?m)^ {4}([0-9a-f]{40})$").matcher(out);
            assertThat(m.find()).as(out).isTrue();
            key = m.group(1);
            assertThat(out).contains("127.0.0.1:" + port).contains("curl").contains("SMTP_Injection:" + key);
            assertThat(out).contains("sending_domains.require: off").contains("keyrelay domains add");
            assertThat(Files.exists(dir.resolve("data/dev-tls/cert.pem"))).isTrue();
            Path masterKey = dir.resolve("data/dkim-master.key");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(masterKey)))
                    .as("dev mode's dkim.master_key is readable by keyrelay's user only").isEqualTo("rw-------");
            masterKeyText = Files.readString(masterKey).strip();
            assertThat(java.util.Base64.getDecoder().decode(masterKeyText)).hasSize(32);
            assertThat(String.join("\n", dev.stderr()) + out).doesNotContain(masterKeyText);
            assertThat(String.join("\n", dev.stderr())).as("the key is never logged").doesNotContain(key);

            byte[] message = "From: app@example.com\r\nTo: you@example.com\r\nSubject: hi\r\n\r\nIt works.\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            // Loopback may AUTH in clear in dev mode ...
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1")) {
                c.expect(220);
                assertThat(c.ehlo().lines()).contains("STARTTLS", "AUTH PLAIN LOGIN");
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
                RawSmtpClient.Reply r = c.send("app@example.com", List.of("you@example.com"), message).assertCode(250);
                assertThat(r.text()).contains("queued as"); // dev mode queues, then delivers into the outbox
            }
            // ... and STARTTLS with the self-signed certificate works too.
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1")) {
                c.expect(220);
                c.ehlo();
                c.startTls(TlsContexts.client(dir.resolve("data/dev-tls/cert.pem")));
                c.ehlo();
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
            }
            Path outbox = dir.resolve("data/outbox");
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.list(outbox).anyMatch(p -> p.toString().endsWith(".eml")));
            Path eml;
            try (var files = Files.list(outbox)) {
                eml = files.filter(p -> p.toString().endsWith(".eml")).findFirst().orElseThrow();
            }
            String saved = Files.readString(eml, StandardCharsets.ISO_8859_1);
            assertThat(saved).startsWith("Received: from client.test ([127.0.0.1])\r\n\tby localhost (keyrelay dev-1) with ESMTPA");
            assertThat(saved).endsWith(new String(message, StandardCharsets.ISO_8859_1));
            dev.terminate(Duration.ofSeconds(30));
        }
        try (RelayProcess again = RelayProcess.start(dir, List.of(), env, "dev")) {
            again.awaitLine(l -> l.contains("Stop with Ctrl-C."), Duration.ofSeconds(60));
            String out = String.join("\n", again.stdout());
            assertThat(out).doesNotContain(key).contains("Keys exist already");
            assertThat(Files.readString(dir.resolve("data/dkim-master.key")).strip())
                    .as("the second start keeps the master key the first one made").isEqualTo(masterKeyText);
            again.terminate(Duration.ofSeconds(30));
        }
    }

    /**
     * The Docker image sets {@code smtp.listen} to 0.0.0.0 so that {@code dev} is reachable through {@code -p}: the
     * banner says it listens on every address, and its test commands still name loopback, which works.
     */
    @Test
    void devMode_onEveryAddress_saysSo_andItsCommandsUseLoopback() throws Exception {
        int port = FreePorts.pick();
        Map<String, String> env = Map.of("KEYRELAY_SMTP_PORT", Integer.toString(port), "KEYRELAY_ADMIN_PORT", "0",
                "KEYRELAY_SMTP_LISTEN", "0.0.0.0");
        try (RelayProcess dev = RelayProcess.start(dir, List.of(), env, "dev")) {
            dev.awaitLine(l -> l.contains("Stop with Ctrl-C."), Duration.ofSeconds(60));
            String out = String.join("\n", dev.stdout());
            assertThat(out).contains("SMTP     0.0.0.0:" + port + " (every address)")
                    .contains("--url smtp://127.0.0.1:" + port).doesNotContain("smtp://0.0.0.0");
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.2", port, "127.0.0.1")) {
                c.expect(220);
            }
            assertThat(dev.terminate(Duration.ofSeconds(30))).isZero();
        }
    }

    /**
     * What a newcomer's terminal shows: the banner first — no framework lines (Jetty, Javalin, SubEthaSMTP) and no
     * start-up log lines of keyrelay's own before it — and after it, keyrelay's log lines at INFO as usual.
     */
    @Test
    void theBanner_isTheFirstThingPrinted_withTheAdminServerOn() throws Exception {
        int port = FreePorts.pick();
        int admin = FreePorts.pick();
        Map<String, String> env = Map.of("KEYRELAY_SMTP_PORT", Integer.toString(port),
                "KEYRELAY_ADMIN_PORT", Integer.toString(admin));
        try (RelayProcess dev = RelayProcess.startMerged(dir, List.of(), env, "dev")) {
            dev.awaitLine(l -> l.contains("Stop with Ctrl-C."), Duration.ofSeconds(60));
            List<String> lines = List.copyOf(dev.stdout());
            assertThat(lines.get(0)).as(String.join("\n", lines)).isEqualTo("keyrelay dev is running.");
            assertThat(lines).noneMatch(l -> l.contains("Javalin") || l.contains("jetty") || l.contains("SMTPServer"));
            assertThat(dev.terminate(Duration.ofSeconds(30))).isZero();
            // keyrelay logs at INFO once the banner is out
            dev.awaitLine(l -> l.contains("INFO") && l.contains("keyrelay stopped"), Duration.ofSeconds(10));
        }
    }
}
