package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded random fuzz run over SMTP commands and bytes, with a fixed seed so every CI run sends the same
 * sessions ({@code -Dkeyrelay.fuzz.seed=N} replays another seed). Each session mixes well-formed commands, mutated
 * ones (NUL, CR, LF, 8-bit and multi-byte insertions, truncations), random lines, AUTH exchanges and DATA bodies
 * full of smuggling sequences, sent in lockstep: one line, one reply.
 *
 * <p>The properties: every reply is well formed; no reply is an internal error; the relay never hangs; exactly
 * the messages it acknowledged with 250 reached the downstream, each once; nothing was logged at ERROR; and
 * afterwards no session is left open and a normal client is served.
 */
class FuzzIT {
    private static final long SEED = Long.getLong("keyrelay.fuzz.seed", 0x6b657972656c6179L); // "keyrelay"
    private static final int SESSIONS = 400;
    private static final int MAX_STEPS = 50;
    private static final Pattern MARKER = Pattern.compile("X-Fuzz: (m\\d+-\\d+)");

    @TempDir
    Path dir;

    private final Set<String> acknowledged = new HashSet<>();
    private int replies;
    private int sessionsClosedByServer;
    private int malformedLinesAnswered;

    @Test
    void aSeededRandomRun_breaksNothing() {
        try (ScriptedMta mta = new ScriptedMta().rcptReply("refused@dest.test", "550 5.1.1 no such user")
                        .dataReply(d -> new String(d, StandardCharsets.ISO_8859_1).contains("X-Reject: yes")
                                ? "554 5.7.1 rejected" : "250 2.0.0 Ok: queued as FUZZ");
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                        .set(Setting.SMTP_MAX_MESSAGE_SIZE, "64KiB")
                        .set(Setting.SMTP_MAX_RECIPIENTS, "5")
                        .set(Setting.LIMITS_AUTH_FAILURES, "1000").set(Setting.LIMITS_AUTH_DELAY, "0")
                        .start();
                LogCapture log = LogCapture.of("")) {
            CreatedKey key = relay.createKey("fuzz");
            Random random = new Random(SEED);
            for (int s = 0; s < SESSIONS; s++) {
                session(relay, key.secret(), new Random(random.nextLong()), s);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> relay.runtime().metrics().activeSessions() == 0);

            Set<String> delivered = new HashSet<>();
            for (ScriptedMta.Received m : mta.received()) {
                Matcher matcher = MARKER.matcher(new String(m.data(), StandardCharsets.ISO_8859_1));
                assertThat(matcher.find()).as("seed %d: a downstream message without a marker", SEED).isTrue();
                assertThat(delivered.add(matcher.group(1))).as("seed %d: %s delivered twice", SEED, matcher.group(1))
                        .isTrue();
            }
            assertThat(delivered).as("seed %d: delivered exactly what was acknowledged", SEED).isEqualTo(acknowledged);
            assertThat(log.atLeast(Level.ERROR)).as("seed %d", SEED).isEmpty();
            assertThat(acknowledged).as("the run reached DATA and got messages through").hasSizeGreaterThan(10);
            assertThat(malformedLinesAnswered).as("the run hit the malformed-line paths").isGreaterThan(10);
            System.out.printf("fuzz seed %d: %d sessions, %d replies, %d messages acknowledged, %d malformed lines"
                    + " answered, %d sessions closed by the server%n", SEED, SESSIONS, replies,
                    acknowledged.size(), malformedLinesAnswered, sessionsClosedByServer);

            try (RawSmtpClient c = relay.connect()) {
                c.expect(220);
                c.ehlo();
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
                c.send("a@example.com", List.of("after-fuzz@dest.test"), "Subject: after\r\n\r\nok\r\n".getBytes())
                        .assertCode(250);
            }
        }
    }

    /** One fuzzed session, in lockstep; ends when the server closes, on QUIT, or after its steps. */
    private void session(RelayHarness relay, String key, Random r, int index) {
        // Each session from its own loopback address, so failed AUTHs stay under the throttle's limit.
        try (RawSmtpClient c = relay.connectFrom("127.0." + (1 + index / 250) + "." + (1 + index % 250))) {
            c.socket().setSoTimeout(10_000); // a hang fails the run instead of stalling it
            check(c.read(), index, "greeting");
            boolean awaitingAuthResponse = false;
            int messages = 0;
            java.util.ArrayDeque<byte[]> plan = new java.util.ArrayDeque<>();
            if (r.nextInt(5) != 0) {
                plan.add(crlf(("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).getBytes(StandardCharsets.US_ASCII)));
            }
            for (int step = 0; step < MAX_STEPS; step++) {
                if (plan.isEmpty() && r.nextInt(3) == 0) {
                    transaction(r, plan);
                }
                byte[] unit = awaitingAuthResponse ? authResponse(r, key) : !plan.isEmpty() ? plan.poll() : command(r, key);
                c.write(unit);
                RawSmtpClient.Reply reply = c.read();
                check(reply, index, show(unit), unit);
                awaitingAuthResponse = reply.code() == 334;
                if (reply.code() == 354) {
                    String marker = "m" + index + "-" + messages++;
                    c.write(body(r, marker));
                    RawSmtpClient.Reply end = c.read();
                    check(end, index, "end of DATA " + marker);
                    if (end.code() == 250) {
                        acknowledged.add(marker);
                    }
                } else if (reply.code() == 221 || (reply.code() == 220 && !awaitingAuthResponse)) {
                    return; // QUIT, or STARTTLS: a TLS handshake is not part of this run
                }
            }
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof SocketException || String.valueOf(e.getMessage()).contains("closed")) {
                sessionsClosedByServer++;
                return;
            }
            throw new AssertionError("seed " + SEED + ", session " + index + ": " + e.getMessage(), e);
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void check(RawSmtpClient.Reply reply, int session, String after) {
        check(reply, session, after, null);
    }

    private void check(RawSmtpClient.Reply reply, int session, String after, byte[] unit) {
        replies++;
        String why = "seed " + SEED + ", session " + session + ", after " + after + ": " + reply;
        assertThat(reply.code()).as(why).isBetween(200, 599);
        assertThat(reply.text()).as(why).doesNotContain("Mail system failure").doesNotStartWith("4.3.0 Local error");
        // SubEthaSMTP's reader never sees a malformed line (LineGuard answers it), so nothing reaches its error paths.
        assertThat(reply.text()).as(why).doesNotContain("Problem attempting").doesNotContain("CR and LF must be CRLF")
                .doesNotContain("Input line length").doesNotContain("invalid character encoding.");
        if (reply.code() == 500 && reply.text().startsWith("5.5.2 ")) {
            malformedLinesAnswered++;
        }
    }


    private static String show(byte[] unit) {
        String s = new String(unit, 0, Math.min(unit.length, 80), StandardCharsets.ISO_8859_1);
        return s.replace("\r", "<CR>").replace("\n", "<LF>").replace("\0", "<NUL>");
    }

    private static final String[] VERBS = {"EHLO fuzz.test", "HELO fuzz.test", "NOOP", "RSET", "VRFY someone", "HELP",
        "MAIL FROM:<a@example.com>", "MAIL FROM:<> SIZE=100", "MAIL FROM:<a@example.com> BODY=8BITMIME SMTPUTF8",
        "MAIL FROM:<ü@exämple.com> SMTPUTF8", "MAIL FROM:<a@example.com> SIZE=99999999", "MAIL FROM:a@example.com",
        "RCPT TO:<r@dest.test>", "RCPT TO:<refused@dest.test>", "RCPT TO:<r2@dest.test>", "RCPT TO:<ü@dest.test>",
        "DATA", "DATA", "BDAT 10 LAST", "AUTH LOGIN", "AUTH PLAIN", "STARTTLS", "QUIT", "EXPN list"};

    /** A well-formed transaction to send line by line (MAIL, a few RCPTs, DATA), sometimes with a mutation. */
    private static void transaction(Random r, java.util.ArrayDeque<byte[]> plan) {
        plan.add(crlf("MAIL FROM:<a@example.com>".getBytes(StandardCharsets.US_ASCII)));
        int rcpts = 1 + r.nextInt(r.nextInt(4) == 0 ? 8 : 3);
        for (int i = 0; i < rcpts; i++) {
            plan.add(crlf(("RCPT TO:<" + (r.nextInt(6) == 0 ? "refused" : "r" + i) + "@dest.test>")
                    .getBytes(StandardCharsets.US_ASCII)));
        }
        plan.add(crlf("DATA".getBytes(StandardCharsets.US_ASCII)));
        if (r.nextInt(6) == 0) {
            byte[][] lines = plan.toArray(new byte[0][]);
            int i = r.nextInt(lines.length);
            lines[i] = crlf(mutate(r, java.util.Arrays.copyOf(lines[i], lines[i].length - 2)));
            plan.clear();
            plan.addAll(List.of(lines));
        }
    }

    private static byte[] command(Random r, String key) {
        int roll = r.nextInt(100);
        String line;
        if (roll < 15) {
            line = "AUTH PLAIN " + (r.nextInt(4) == 0 ? RawSmtpClient.plain("SMTP_Injection", randomKey(r))
                    : RawSmtpClient.plain("SMTP_Injection", key));
        } else if (roll < 70) {
            line = VERBS[r.nextInt(VERBS.length)];
        } else if (roll < 95) {
            return crlf(mutate(r, VERBS[r.nextInt(VERBS.length)].getBytes(StandardCharsets.UTF_8)));
        } else {
            return crlf(randomBytes(r, r.nextInt(r.nextInt(10) == 0 ? 1200 : 80)));
        }
        if (r.nextInt(10) == 0) {
            line = line.toLowerCase(java.util.Locale.ROOT);
        }
        return crlf(line.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] authResponse(Random r, String key) {
        return switch (r.nextInt(5)) {
            case 0 -> crlf("*".getBytes(StandardCharsets.US_ASCII));
            case 1 -> crlf(randomBytes(r, r.nextInt(40)));
            case 2 -> crlf(RawSmtpClient.b64(key).getBytes(StandardCharsets.US_ASCII));
            case 3 -> crlf(RawSmtpClient.plain("SMTP_Injection", key).getBytes(StandardCharsets.US_ASCII));
            default -> crlf(RawSmtpClient.b64("SMTP_Injection").getBytes(StandardCharsets.US_ASCII));
        };
    }

    private static final byte[] ODD = {0, '\r', '\n', ' ', ':', '<', '>', '@', '.', '=', 0x7f, (byte) 0x80, (byte) 0xC3,
        (byte) 0xA9, (byte) 0xFF, '\t'};

    private static byte[] mutate(Random r, byte[] line) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int cut = r.nextInt(5) == 0 ? r.nextInt(line.length + 1) : line.length;
        for (int i = 0; i < cut; i++) {
            if (r.nextInt(12) == 0) {
                out.write(ODD[r.nextInt(ODD.length)]);
            }
            if (r.nextInt(20) != 0) {
                out.write(line[i]);
            }
        }
        if (r.nextInt(8) == 0) {
            out.writeBytes("x".repeat(r.nextInt(1100)).getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(4) == 0 ? ODD[r.nextInt(ODD.length)] : (byte) (0x20 + r.nextInt(0x5f));
        }
        return b;
    }

    private static final String[] SMUGGLE = {"\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\n", "\n.\r", "\r\n..\r\n",
        "\r\n.x\r\n", "\r\n.\r\r\n", "\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@x>\r\nDATA\r\n", "\0", "\r\n\r\n"};

    /** A message body with a marker, random text and smuggling sequences, ending with the real terminator. */
    private static byte[] body(Random r, String marker) {
        StringBuilder b = new StringBuilder("X-Fuzz: ").append(marker).append("\r\n");
        if (r.nextInt(8) == 0) {
            b.append("X-Reject: yes\r\n");
        }
        b.append("Subject: fuzz\r\n\r\n");
        int parts = r.nextInt(30);
        for (int i = 0; i < parts; i++) {
            switch (r.nextInt(6)) {
                case 0 -> b.append(SMUGGLE[r.nextInt(SMUGGLE.length)]);
                case 1 -> b.append(new String(randomBytes(r, r.nextInt(200)), StandardCharsets.ISO_8859_1));
                case 2 -> b.append("z".repeat(r.nextInt(r.nextInt(20) == 0 ? 90_000 : 2000)));
                default -> b.append("line ").append(i).append("\r\n");
            }
        }
        String text = b.toString();
        while (text.contains("\r\n.\r\n")) { // that is the real end: it must come only once, last
            text = text.replace("\r\n.\r\n", "\r\n..\r\n");
        }
        text += text.endsWith("\r\n") ? ".\r\n" : "\r\n.\r\n";
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String randomKey(Random r) {
        StringBuilder k = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            k.append(Character.forDigit(r.nextInt(16), 16));
        }
        return k.toString();
    }

    private static byte[] crlf(byte[] line) {
        byte[] out = new byte[line.length + 2];
        System.arraycopy(line, 0, out, 0, line.length);
        out[line.length] = '\r';
        out[line.length + 1] = '\n';
        return out;
    }
}
