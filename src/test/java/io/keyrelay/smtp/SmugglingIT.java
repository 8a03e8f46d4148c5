package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SMTP smuggling (2023): a message whose body holds a lenient end-of-data sequence followed by a second SMTP
 * transaction. keyrelay ends DATA only at {@code <CRLF>.<CRLF>}, and on the way out doubles every dot after a CR or
 * LF — so even a downstream that itself ends data at any lone dot (as the exploited MTAs did; {@link ScriptedMta}
 * plays one here) receives exactly one message, with the smuggled text inside it, and the client hears one reply.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmugglingIT {
    @TempDir
    static Path dir;

    private ScriptedMta lenientMta;
    private RelayHarness relay;
    private CreatedKey key;

    @BeforeAll
    void start() {
        lenientMta = new ScriptedMta().lenientEndOfData(true);
        relay = RelayHarness.builder(dir).passthrough().downstreamPort(lenientMta.port()).start();
        key = relay.createKey("smuggling");
    }

    @AfterAll
    void stop() {
        relay.close();
        lenientMta.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF.LF", "LF.CRLF", "CR.CR", "CR.LF", "CR.CRLF", "CRLF.LF", "LF.CR", "CRLF.CR",
        "CRLF.CRCRLF", "CRLF.NULCRLF", "LF.LF at the start"})
    void aLenientEndOfDataInsideTheBody_neverEndsTheMessage_norStartsASecondOne(String variant) {
        String sequence = variant.replace(" at the start", "").replace("CR", "\r").replace("LF", "\n")
                .replace("NUL", "\0");
        String rcpt = "smuggle-" + UUID.randomUUID().toString().substring(0, 8) + "@dest.test";
        String smuggled = "MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@dest.test>\r\nDATA\r\n"
                + "Subject: smuggled\r\n\r\nevil\r\n";
        String body = variant.endsWith("at the start") ? sequence.substring(1) + smuggled
                : "Subject: smuggling test\r\n\r\nhello" + sequence + smuggled;
        int before = lenientMta.received().size();
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            c.command("MAIL FROM:<a@example.com>").assertCode(250);
            c.command("RCPT TO:<" + rcpt + ">").assertCode(250);
            c.command("DATA").assertCode(354);
            c.write(body.getBytes(StandardCharsets.ISO_8859_1));
            c.write(".\r\n".getBytes(StandardCharsets.US_ASCII)); // the body ends with CRLF: this is the real end
            RawSmtpClient.Reply done = c.read().assertCode(250);
            assertThat(done.text()).contains("queued as SCRIPTED");
            // Had anything in the body run as a command, its replies would come before VRFY's.
            assertThat(c.command("VRFY someone").assertCode(502).text()).isEqualTo("VRFY command is disabled");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> lenientMta.received().size() > before);
        assertThat(lenientMta.received()).hasSize(before + 1);
        ScriptedMta.Received got = lenientMta.received().get(before);
        assertThat(got.to()).containsExactly(rcpt);
        assertThat(got.from()).isEqualTo("<a@example.com>");
        assertThat(new String(got.data(), StandardCharsets.ISO_8859_1)).contains("RCPT TO:<victim@dest.test>")
                .endsWith("evil\r\n");
        assertThat(lenientMta.received()).noneMatch(m -> m.to().contains("victim@dest.test"));
    }
}
