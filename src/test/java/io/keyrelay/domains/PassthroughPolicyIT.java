package io.keyrelay.domains;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.Dkimpy;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The sender policy in passthrough mode ({@code relay.mode: passthrough}; {@link SenderPolicyIT} runs the default,
 * queue mode), where the header block is judged before anything goes downstream: a message no key signs is
 * streamed on as it comes (header bytes first, nothing held), a signed one is held until its signature is made,
 * a refused one never reaches the downstream. The downstream is a {@link ScriptedMta}, which keeps the raw bytes,
 * so what arrives is compared byte for byte with what the client sent.
 */
class PassthroughPolicyIT {
    private static final String RCPT = "rcpt@downstream.test";

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void policyAlone_streamsTheClientsBytesOn_andARefusedMessageReachesNothing(Kind kind) throws Exception {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).store(kind).passthrough()
                        .downstreamPort(mta.port())
                        .set(Setting.SENDING_DOMAINS_REQUIRE, "configured")
                        .set(Setting.SMTP_MAX_MESSAGE_SIZE, "8MiB")
                        .set(Setting.DKIM_MASTER_KEY, MasterKey.generate().encoded()).start()) {
            relay.runtime().domains().create(new DomainSpec("plain.test", null, false, false, 2048, false),
                    Actor.CLI);
            String key = relay.createKey("app", Grant.SMTP_INJECT).secret();
            Path spool = relay.config().dataDir().resolve("spool");
            // A header block larger than one read (so the read-ahead grows), folded, a body whose lines start
            // with dots (stuffed on the wire, so a stuffed dot may fall right after the empty line), 3 MB of it
            // (past the 1 MiB a held message keeps in memory), and no CRLF at its very end.
            StringBuilder h = new StringBuilder("From: App <app@plain.test>\r\nTo: " + RCPT + "\r\n");
            for (int i = 0; i < 300; i++) {
                h.append("X-Filler-").append(i).append(": ").append("f".repeat(40)).append("\r\n\t folded\r\n");
            }
            h.append("Subject: large\r\n\r\n.first line of the body starts with a dot\r\n..two\r\n.\r\n");
            byte[] large = concat(h.toString().getBytes(StandardCharsets.US_ASCII), body(3_000_000),
                    "\r\n.last".getBytes(StandardCharsets.US_ASCII));
            byte[] headersOnly = ("From: app@plain.test\r\nTo: " + RCPT + "\r\nSubject: no body")
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] bareLf = ("From: app@plain.test\nSubject: bare\n\nbody line\nend\n").getBytes(StandardCharsets.US_ASCII);
            try (RawSmtpClient c = relay.authenticated(key)) {
                c.send("app@plain.test", List.of(RCPT), large).assertCode(250);
                // Refused after the whole message was read (4 MB here); the session goes on.
                assertThat(c.send("app@plain.test", List.of(RCPT), concat(message("x@other.test", "spoof"),
                        body(4_000_000))).assertCode(550).last())
                        .isEqualTo("5.7.1 Unconfigured Sending Domain <other.test>");
                // Too large still wins over the policy, as it does for an accepted message.
                c.send("app@plain.test", List.of(RCPT), concat(message("x@other.test", "big"), body(9_000_000)))
                        .assertCode(552);
                assertThat(c.send("app@plain.test", List.of(RCPT), "Subject: none\r\n\r\nbody\r\n"
                        .getBytes(StandardCharsets.US_ASCII)).assertCode(550).last()).contains("no parseable From");
                // Nothing was held: the spool directory, made when a held message first spills past the memory
                // bound to a file, was not (the 3 MB message was sent on as it came, the 4 MB one dropped).
                assertThat(spool).doesNotExist();
                // A header block past the bound that is read ahead (1 MiB): the message is held (and so spooled)
                // and judged whole, as before; its From: cannot be trusted to be the only one.
                StringBuilder huge = new StringBuilder("From: app@plain.test\r\n");
                while (huge.length() < 1_200_000) {
                    huge.append("X-Pad: ").append("p".repeat(90)).append("\r\n");
                }
                assertThat(c.send("app@plain.test", List.of(RCPT), (huge + "\r\nbody\r\n")
                        .getBytes(StandardCharsets.US_ASCII)).code()).isEqualTo(550);
                assertThat(spool).isDirectory();
                c.send("app@plain.test", List.of(RCPT), headersOnly).assertCode(250);
                c.send("app@plain.test", List.of(RCPT), bareLf).assertCode(250);
                c.command("QUIT").assertCode(221);
            }
            List<ScriptedMta.Received> got = mta.received();
            assertThat(got).hasSize(3);
            assertOursThenTheClients(got.get(0).data(), large);
            assertOursThenTheClients(got.get(1).data(), headersOnly);
            assertOursThenTheClients(got.get(2).data(), bareLf);
            assertThat(relay.runtime().registry().scrape()).containsPattern(
                    "keyrelay_policy_refusals_total\\{[^}]*reason=\"unconfigured_domain\"[^}]*} 1\\.0");
        }
    }

    @Test
    void signedInPassthrough_isHeldUntilSigned_andDkimpyVerifiesIt() throws Exception {
        int dnsPort = FreePorts.pick();
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).passthrough()
                        .downstreamPort(mta.port())
                        .set(Setting.SENDING_DOMAINS_REQUIRE, "configured")
                        .set(Setting.DKIM_SIGN_UNVERIFIED, "true")
                        .set(Setting.DKIM_MASTER_KEY, MasterKey.generate().encoded()).start()) {
            SendingDomain signs = relay.runtime().domains().create(new DomainSpec("signs.test", null, false, true,
                    2048, true), Actor.CLI);
            relay.runtime().domains().create(new DomainSpec("plain.test", null, false, false, 2048, false),
                    Actor.CLI);
            String key = relay.createKey("app", Grant.SMTP_INJECT).secret();
            StringBuilder h = new StringBuilder("From: App <app@signs.test>\r\nTo: " + RCPT + "\r\n");
            for (int i = 0; i < 200; i++) {
                h.append("X-Filler-").append(i).append(": ").append("f".repeat(60)).append("\r\n");
            }
            h.append("Subject: signed and large\r\n\r\n.dot first\r\n");
            byte[] large = concat(h.toString().getBytes(StandardCharsets.US_ASCII), body(2_000_000));
            byte[] small = message("app@signs.test", "signed small");
            try (RawSmtpClient c = relay.authenticated(key)) {
                c.send("app@signs.test", List.of(RCPT), large).assertCode(250);
                c.send("app@signs.test", List.of(RCPT), small).assertCode(250);
                // A signing From: with a Sender: of no sending domain: refused, nothing sent.
                assertThat(c.send("app@signs.test", List.of(RCPT), ("From: app@signs.test\r\nSender: x@other.test"
                        + "\r\nSubject: s\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII)).assertCode(550)
                        .last()).contains("<other.test>");
                c.send("app@plain.test", List.of(RCPT), message("app@plain.test", "unsigned")).assertCode(250);
            }
            List<ScriptedMta.Received> got = mta.received();
            assertThat(got).hasSize(3);
            Dnsmasq.Zone zone = new Dnsmasq.Zone().local("test");
            signs.keys().forEach(k -> zone.txt(k.recordName(), k.recordValue()));
            try (Dnsmasq dns = Dnsmasq.start(dir, dnsPort, zone)) {
                for (int i = 0; i < 2; i++) {
                    byte[] data = got.get(i).data();
                    String text = new String(data, StandardCharsets.ISO_8859_1);
                    assertThat(text.split("DKIM-Signature:", -1)).hasSize(3);
                    assertThat(text).contains("a=rsa-sha256", "a=ed25519-sha256", "d=signs.test");
                    Path f = Files.write(dir.resolve("signed-" + i + ".eml"), data);
                    Dkimpy.Verdict v = Dkimpy.verify(dnsPort, f);
                    assertThat(v.verified()).as(v.output()).isTrue();
                    assertThat(text).endsWith(new String(i == 0 ? large : small, StandardCharsets.ISO_8859_1));
                }
                Path altered = Files.writeString(dir.resolve("altered.eml"), new String(got.get(1).data(),
                        StandardCharsets.ISO_8859_1).replace("body of signed small", "body of another"),
                        StandardCharsets.ISO_8859_1);
                assertThat(Dkimpy.verify(dnsPort, altered).verified()).isFalse();
            }
            assertThat(new String(got.get(2).data(), StandardCharsets.ISO_8859_1)).doesNotContain("DKIM-Signature");
            assertOursThenTheClients(got.get(2).data(), message("app@plain.test", "unsigned"));
        }
    }

    /** Exactly keyrelay's Received field, then the client's bytes as they were. */
    private static void assertOursThenTheClients(byte[] got, byte[] client) {
        String text = new String(got, StandardCharsets.ISO_8859_1);
        assertThat(text).startsWith("Received: from ");
        int end = text.indexOf("\r\n") + 2;
        while (text.charAt(end) == '\t' || text.charAt(end) == ' ') { // the field's folded lines
            end = text.indexOf("\r\n", end) + 2;
        }
        byte[] rest = Arrays.copyOfRange(got, end, got.length);
        byte[] expected = endsWithCrlf(client) ? client : concat(client, "\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(rest.length).isEqualTo(expected.length);
        assertThat(Arrays.equals(rest, expected)).as("the client's bytes, unchanged").isTrue();
    }

    private static boolean endsWithCrlf(byte[] b) {
        return b.length >= 2 && b[b.length - 2] == '\r' && b[b.length - 1] == '\n';
    }

    private static byte[] message(String from, String subject) {
        return ("From: " + from + "\r\nTo: " + RCPT + "\r\nSubject: " + subject + "\r\n\r\nbody of " + subject
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code size} bytes of short text lines, some starting with a dot. */
    private static byte[] body(int size) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(size + 100);
        int n = 0;
        while (b.size() < size) {
            String line = (n % 7 == 0 ? "." : "") + "line " + n++ + " of the body, some text to fill it\r\n";
            b.writeBytes(line.getBytes(StandardCharsets.US_ASCII));
        }
        return b.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
