package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP's tokens are ASCII: usernames, verbs and keywords compare without case in ASCII only, numbers are ASCII
 * digits only; AUTH PLAIN's authorization identity must be the username; and what a client sends reaches the log
 * quoted. Each of these was lenient before (dotless i and long s folded, SIZE=٣ read as 3, an authzid dropped).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtocolTokensIT {
    @TempDir
    static Path dir;

    private ScriptedMta mta;
    private RelayHarness relay;
    private CreatedKey key;

    @BeforeAll
    void start() {
        mta = new ScriptedMta();
        relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port()).set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_FAILURES, "1000").start();
        key = relay.createKey("tokens");
    }

    @AfterAll
    void stop() {
        relay.close();
        mta.close();
    }

    private RawSmtpClient session() {
        RawSmtpClient c = relay.connect();
        c.expect(220);
        c.ehlo();
        return c;
    }

    private static String plain(String authzid, String user, String secret) {
        return Base64.getEncoder().encodeToString((authzid + "\0" + user + "\0" + secret).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void usernamesThatOnlyUnicodeFoldsToSmtpInjection_areRefused_andAsciiCaseIsNot() {
        for (String user : List.of("SMTP_\u0131njection", "\u017FMTP_Injection", "SMTP_INJECT\u0130ON",
                "SMTP_Injection:X-MSYS-SUBACCOUNT=+1", "SMTP_Injection:X-MSYS-SUBACCOUNT=\u0663",
                "SMTP_Injection:X-M\u017FY\u017F-SUBACCOUNT=1")) {
            try (RawSmtpClient c = session()) {
                c.command("AUTH PLAIN " + RawSmtpClient.plain(user, key.secret())).assertCode(535);
            }
        }
        try (RawSmtpClient c = session()) {
            c.command("AUTH PLAIN " + RawSmtpClient.plain("smtp_injection:x-msys-subaccount=7", key.secret()))
                    .assertCode(235);
        }
    }

    @Test
    void anAuthzidOtherThanTheUsername_is535_andTheSameOneIsAccepted() {
        try (RawSmtpClient c = session()) {
            c.command("AUTH PLAIN " + plain("someone-else", "SMTP_Injection", key.secret())).assertCode(535);
            c.command("AUTH PLAIN " + plain("SMTP_Injection:X-MSYS-SUBACCOUNT=2", "SMTP_Injection", key.secret()))
                    .assertCode(535);
            c.command("AUTH PLAIN " + plain("SMTP_Injection", "SMTP_Injection", key.secret())).assertCode(235);
        }
    }

    @Test
    void sizeAndVerbsAndKeywords_areAsciiOnly() {
        try (RawSmtpClient c = session()) {
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.command("MAIL FROM:<a@example.com> SIZE=\u0663").assertCode(501);
            c.command("MAIL FROM:<a@example.com> SIZE=\uFF13").assertCode(501);
            c.command("MAIL FROM:<a@example.com> SIZE=+3").assertCode(501);
            c.command("MAIL FROM:<a@example.com> BODY=8B\u0130TMIME").assertCode(501);
            c.command("MAIL FROM:<a@example.com> \u017FMTPUTF8").assertCode(555);
            assertThat(c.command("MA\u0131L FROM:<a@example.com>").assertCode(500).text())
                    .isEqualTo("5.5.1 Command unrecognized: SMTP commands are ASCII");
            c.command("\u017FTARTTLS").assertCode(500);
            c.command("mail from:<a@example.com> size=3").assertCode(250);
            c.command("RSET").assertCode(250);
        }
        assertThat(mta.mailCommands()).isZero(); // no MAIL FROM reached the downstream with a SIZE it never saw
    }

    @Test
    void aSenderWithQuotesInIt_isQuotedInTheTransactionLogLine_andForgesNoField() {
        try (LogCapture log = LogCapture.of("io.keyrelay.smtp"); RawSmtpClient c = session()) {
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
            c.command("MAIL FROM:<\"x\\\"result=delivered\"@example.com>").assertCode(250);
            c.command("RSET").assertCode(250);
            await().atMost(Duration.ofSeconds(5)).until(() -> log.all().contains("result=aborted"));
            String line = log.messages().stream().filter(m -> m.contains("result=aborted")).findFirst().orElseThrow();
            assertThat(line).contains("from=\"<\\\"x\\\\\\\"result=delivered\\\"@example.com>\"");
            assertThat(line.split(" result=", -1)).as(line).hasSize(2);
        }
    }
}
