package io.keyrelay.domains;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMailUtil;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.Dkimpy;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sender policy and signing over real SMTP, on H2 and PostgreSQL, with GreenMail downstream, a real dnsmasq for the
 * DKIM records and dkimpy as the independent verifier: each refusal and each allowed case for primary, subaccount,
 * shared and per-key narrowed domains, at MAIL FROM and after DATA; nothing refused reaches the downstream; every
 * accepted message from a verified domain carries signatures dkimpy verifies, and one altered after signing fails.
 */
class SenderPolicyIT {
    private static final String RCPT = "rcpt@downstream.test";

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void onlyTheKeysDomainsMaySend_andWhatIsSentIsSigned(Kind kind) throws Exception {
        int dnsPort = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).store(kind)
                .set(Setting.SENDING_DOMAINS_REQUIRE, "verified")
                .set(Setting.DKIM_MASTER_KEY, MasterKey.generate().encoded())
                .set(Setting.DNS_SERVERS, "127.0.0.1:" + dnsPort)
                .set(Setting.DNS_TIMEOUT, "2s").start();
                LogCapture logs = LogCapture.of("")) {
            DomainService domains = relay.runtime().domains();
            SendingDomain good = domains.create(new DomainSpec("good.test", null, false, true, 2048, true), Actor.CLI);
            domains.create(DomainSpec.of("unverified.test"), Actor.CLI);
            SendingDomain shared = domains.create(new DomainSpec("shared.test", null, true, true, 1024, false),
                    Actor.CLI);
            SendingDomain sub = domains.create(new DomainSpec("sub7.test", 7L, false, true, 1024, false), Actor.CLI);
            Dnsmasq.Zone zone = new Dnsmasq.Zone().local("test");
            for (SendingDomain d : List.of(good, shared, sub)) {
                d.keys().forEach(k -> zone.txt(k.recordName(), k.recordValue()));
            }
            try (Dnsmasq dns = Dnsmasq.start(dir, dnsPort, zone)) {
                for (SendingDomain d : List.of(good, shared, sub)) {
                    assertThat(domains.verify(d.name(), Actor.CLI).domain().dkimStatus()).isEqualTo(DkimStatus.VALID);
                }
                String primary = relay.createKey("primary", Grant.SMTP_INJECT).secret();
                String sub7 = relay.createKey(new KeySpec("sub7", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY, 7L,
                        null)).secret();
                String narrowed = relay.createKey(new KeySpec("billing", EnumSet.of(Grant.SMTP_INJECT),
                        IpAllowlist.ANY, null, null, null, List.of("good.test"))).secret();

                try (RawSmtpClient c = relay.authenticated(primary)) {
                    // The envelope, at MAIL FROM; the session goes on.
                    assertThat(c.command("MAIL FROM:<app@other.test>").assertCode(550).last())
                            .isEqualTo("5.7.1 Unconfigured Sending Domain <other.test>");
                    assertThat(c.command("MAIL FROM:<app@unverified.test>").assertCode(550).last())
                            .contains("<unverified.test>");
                    // The header, after the whole message was read; nothing reaches the downstream.
                    assertThat(c.send("app@good.test", List.of(RCPT), message("app@other.test", "one")).assertCode(550).last())
                            .isEqualTo("5.7.1 Unconfigured Sending Domain <other.test>");
                    // The null sender is not checked at MAIL FROM (bounces have none).
                    c.command("MAIL FROM:<>").assertCode(250);
                    c.command("RSET").assertCode(250);
                    assertThat(c.send("app@good.test", List.of(RCPT), message("Friend <a@Sub.Other.test>", "two")).last())
                            .contains("<sub.other.test>");
                    assertThat(c.send("app@good.test", List.of(RCPT), "Subject: no from\r\n\r\nbody\r\n"
                            .getBytes(StandardCharsets.US_ASCII)).assertCode(550).last()).contains("no parseable From");
                    assertThat(relay.greenMail().getReceivedMessages()).isEmpty();
                    // Allowed: the primary's own domain (with a Sender: of its shared one), and signed.
                    assertThat(c.send("bounce@good.test", List.of(RCPT), ("From: App <app@GOOD.test>\r\n"
                            + "Sender: relay@shared.test\r\nTo: " + RCPT + "\r\nSubject: signed\r\n\r\nhello\r\n")
                            .getBytes(StandardCharsets.US_ASCII)).assertCode(250));
                }
                try (RawSmtpClient c = relay.authenticated(sub7)) {
                    assertThat(c.command("MAIL FROM:<x@good.test>").assertCode(550).last()).contains("<good.test>");
                    c.send("x@sub7.test", List.of(RCPT), message("x@shared.test", "sub shared")).assertCode(250);
                    c.send("x@sub7.test", List.of(RCPT), message("x@sub7.test", "sub own")).assertCode(250);
                }
                try (RawSmtpClient c = relay.authenticated(narrowed)) {
                    assertThat(c.command("MAIL FROM:<x@shared.test>").assertCode(550).last())
                            .contains("<shared.test>");
                    c.send("x@good.test", List.of(RCPT), message("x@good.test", "narrowed")).assertCode(250);
                }
                relay.greenMail().waitForIncomingEmail(5_000, 4);
                MimeMessage[] got = relay.greenMail().getReceivedMessages();
                assertThat(got).hasSize(4);

                // Every accepted message is signed by its From: domain, and dkimpy agrees.
                MimeMessage first = java.util.Arrays.stream(got).filter(m -> {
                    try {
                        return "signed".equals(m.getSubject());
                    } catch (jakarta.mail.MessagingException e) {
                        throw new IllegalStateException(e);
                    }
                }).findFirst().orElseThrow(); // queue mode delivers in any order
                assertThat(first.getHeader("DKIM-Signature")).hasSize(2);
                assertThat(String.join("\n", first.getHeader("DKIM-Signature"))).contains("d=good.test",
                        "a=rsa-sha256", "a=ed25519-sha256", "c=relaxed/relaxed", "h=from:from:sender:subject:to;");
                for (MimeMessage m : got) {
                    Path file = write(m, "message");
                    Dkimpy.Verdict v = Dkimpy.verify(dnsPort, file);
                    assertThat(v.verified()).as(v.output()).isTrue();
                }
                String raw = GreenMailUtil.getWholeMessage(first);
                Path altered = Files.writeString(dir.resolve("altered.eml"), raw.replace("Subject: signed",
                        "Subject: changed"), StandardCharsets.ISO_8859_1);
                assertThat(Dkimpy.verify(dnsPort, altered).verified()).isFalse();
                assertThat(raw).contains("From: App <app@GOOD.test>\r\nSender: relay@shared.test\r\n");
            }

            // Each refusal is counted, logged with its reason, and audited.
            String scrape = relay.runtime().registry().scrape();
            assertThat(scrape).containsPattern("keyrelay_policy_refusals_total\\{[^}]*reason=\"unconfigured_domain\""
                    + "[^}]*} 4\\.0");
            assertThat(scrape).containsPattern("keyrelay_policy_refusals_total\\{[^}]*reason=\"unverified_domain\""
                    + "[^}]*} 1\\.0");
            assertThat(scrape).containsPattern("keyrelay_policy_refusals_total\\{[^}]*reason=\"no_from\"[^}]*} 1\\.0");
            assertThat(scrape).containsPattern("keyrelay_policy_refusals_total\\{[^}]*reason=\"not_the_keys_domain\""
                    + "[^}]*} 1\\.0");
            assertThat(logs.all()).containsPattern("result=refused .*policy=unconfigured_domain")
                    .containsPattern("result=(delivered|queued) .*dkim=2");
            await().atMost(Duration.ofSeconds(10)).until(() -> relay.runtime().keyService()
                    .audit(null, "policy.refused", null, 50).size() == 7);
            List<AuditEvent> refusals = relay.runtime().keyService().audit(null, "policy.refused", null, 50);
            assertThat(refusals).allSatisfy(a -> assertThat(a.actor()).isEqualTo("smtp"))
                    .anySatisfy(a -> assertThat(a.detail()).startsWith("reason=not_the_keys_domain stage=mail"
                            + " domain=shared.test"))
                    .anySatisfy(a -> assertThat(a.detail()).startsWith("reason=no_from stage=data"));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void configured_allowsAnUnverifiedDomain_unsigned_andComparesIdnDomainsInOneForm(Kind kind) throws Exception {
        try (RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).store(kind)
                .set(Setting.SENDING_DOMAINS_REQUIRE, "configured")
                .set(Setting.DKIM_MASTER_KEY, MasterKey.generate().encoded())
                .set(Setting.DNS_SERVERS, "127.0.0.1:9").set(Setting.DNS_TIMEOUT, "1s").start()) {
            DomainService domains = relay.runtime().domains();
            domains.create(DomainSpec.of("Bücher.test"), Actor.CLI);
            String key = relay.createKey("primary", Grant.SMTP_INJECT).secret();
            try (RawSmtpClient c = relay.authenticated(key)) {
                c.send("x@xn--bcher-kva.test", List.of(RCPT), message("a@XN--BCHER-KVA.test", "idn")).assertCode(250);
                assertThat(c.send("x@xn--bcher-kva.test", List.of(RCPT), message("a@other.test", "no")).assertCode(550)
                        .last()).contains("<other.test>");
            }
            relay.greenMail().waitForIncomingEmail(5_000, 1);
            MimeMessage[] got = relay.greenMail().getReceivedMessages();
            assertThat(got).hasSize(1);
            assertThat(got[0].getHeader("DKIM-Signature")).as("an unverified domain is not signed").isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anImportedKey_signsTheMail_andDkimpyVerifiesItUnderTheOwnersSelector(Kind kind) throws Exception {
        // The key is made by openssl, as an owner would, in PKCS#1 PEM: nothing of it comes from the JDK.
        Path pem = dir.resolve("owner.pem");
        io.keyrelay.testing.ProcessRun gen = io.keyrelay.testing.ProcessRun.run(dir, java.util.Map.of(),
                Duration.ofSeconds(60), List.of("openssl", "genrsa", "-traditional", "-out", pem.toString(), "2048"));
        assertThat(gen.exitCode()).as(gen.stderr()).isZero();
        assertThat(Files.readString(pem)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        int dnsPort = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir.resolve("relay")).store(kind)
                .set(Setting.SENDING_DOMAINS_REQUIRE, "verified")
                .set(Setting.DKIM_MASTER_KEY, MasterKey.generate().encoded())
                .set(Setting.DNS_SERVERS, "127.0.0.1:" + dnsPort)
                .set(Setting.DNS_TIMEOUT, "2s").start()) {
            DomainService domains = relay.runtime().domains();
            SendingDomain own = domains.create(new DomainSpec("own.test", null, false, true, 2048, false,
                    new DkimImport("owner-2026", Files.readString(pem), null)), Actor.CLI);
            DkimKey key = own.primaryKey().orElseThrow();
            assertThat(key.selector()).isEqualTo("owner-2026");
            try (Dnsmasq dns = Dnsmasq.start(dir, dnsPort, new Dnsmasq.Zone().local("test")
                    .txt(key.recordName(), key.recordValue()))) {
                assertThat(domains.verify(own.name(), Actor.CLI).domain().dkimStatus()).isEqualTo(DkimStatus.VALID);
                String secret = relay.createKey("primary", Grant.SMTP_INJECT).secret();
                try (RawSmtpClient c = relay.authenticated(secret)) {
                    c.send("app@own.test", List.of(RCPT), message("App <app@own.test>", "owner key")).assertCode(250);
                }
                relay.greenMail().waitForIncomingEmail(5_000, 1);
                MimeMessage m = relay.greenMail().getReceivedMessages()[0];
                assertThat(m.getHeader("DKIM-Signature")).singleElement().asString().contains("d=own.test",
                        "s=owner-2026", "a=rsa-sha256");
                Dkimpy.Verdict v = Dkimpy.verify(dnsPort, write(m, "owned"));
                assertThat(v.verified()).as(v.output()).isTrue();
                assertThat(v.output()).contains("ok rsa-sha256 own.test owner-2026");
                String raw = GreenMailUtil.getWholeMessage(m);
                Path altered = Files.writeString(dir.resolve("altered-own.eml"), raw.replace("body of owner key",
                        "body of someone else"), StandardCharsets.ISO_8859_1);
                assertThat(Dkimpy.verify(dnsPort, altered).verified()).isFalse();
            }
        }
    }

    private static byte[] message(String from, String subject) {
        return ("From: " + from + "\r\nTo: " + RCPT + "\r\nSubject: " + subject + "\r\n\r\nbody of " + subject
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private Path write(MimeMessage m, String name) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        m.writeTo(b);
        Path f = Files.createTempFile(dir, name, ".eml");
        Files.write(f, b.toByteArray());
        return f;
    }
}
