package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 50 MB message through a relay process whose whole heap is smaller than the message. */
class LargeMessageIT {
    private static final int MB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void fiftyMegabyteMessage_isStreamedThroughASmallHeap() throws Exception {
        CreatedKey key;
        try (Database db = Database.open(new RelayConfig.Db(null, "", "", 2), dir)) {
            db.migrate();
            key = new KeyService(new JdbcKeyStore(db.dataSource()), KeyHasher.sha256(), new KeyGenerator(),
                    Clock.systemUTC()).create(new KeySpec("big", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                    null), Actor.CLI);
        }
        GreenMail gm = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        gm.start();
        int port = FreePorts.pick();
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "KEYRELAY_DATA_DIR", dir.toString(),
                "KEYRELAY_SMTP_LISTEN", "127.0.0.1",
                "KEYRELAY_SMTP_PORT", Integer.toString(port),
                "KEYRELAY_SMTP_AUTH_PLAINTEXT", "loopback",
                "KEYRELAY_SMTP_MAX_MESSAGE_SIZE", "60MiB",
                "KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1",
                "KEYRELAY_DOWNSTREAM_PORT", Integer.toString(gm.getSmtp().getPort()),
                "KEYRELAY_DOWNSTREAM_TLS", "none",
                "KEYRELAY_ADMIN_PORT", "0",
                "KEYRELAY_RELAY_MODE", "passthrough")); // this test is about relaying during the transaction
        env.put("KEYRELAY_SENDING_DOMAINS_REQUIRE", "off"); // it sends from arbitrary domains
        try (RelayProcess relay = RelayProcess.start(dir, List.of("-Xmx40m", "-XX:+ExitOnOutOfMemoryError"), env,
                "serve")) {
            relay.awaitLine(l -> l.contains("SMTP listening on 127.0.0.1:" + port), Duration.ofSeconds(60));
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1")) {
                c.expect(220);
                c.ehlo();
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
                c.command("MAIL FROM:<big@example.com> SIZE=" + (50 * MB + 100)).assertCode(250);
                c.command("RCPT TO:<rcpt@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                OutputStream out = c.socket().getOutputStream();
                out.write("Subject: fifty megabytes\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] line = ("0123456789".repeat(7) + "abcdefgh\r\n").getBytes(StandardCharsets.US_ASCII);
                long written = 0;
                byte[] chunk = new byte[line.length * 800];
                for (int i = 0; i < 800; i++) {
                    System.arraycopy(line, 0, chunk, i * line.length, line.length);
                }
                while (written < 50L * MB) {
                    out.write(chunk);
                    written += chunk.length;
                }
                out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                RawSmtpClient.Reply r = c.read();
                assertThat(r.code()).as("relay output: %s", relay.stderr()).isEqualTo(250);
                c.command("QUIT");
            }
            assertThat(gm.waitForIncomingEmail(30_000, 1)).isTrue();
            long size = gm.getReceivedMessages()[0].getSize();
            assertThat(size).isGreaterThan(50L * MB);
            assertThat(relay.process().isAlive()).as("the relay survived with -Xmx40m").isTrue();
            assertThat(relay.stderr()).noneMatch(l -> l.contains("OutOfMemoryError"));
        } finally {
            gm.stop();
        }
    }
}
