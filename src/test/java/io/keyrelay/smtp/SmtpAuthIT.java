package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.TestDatabases.Kind;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SMTP AUTH with API keys against a real relay, with real clients (jakarta.mail and raw sockets) and GreenMail
 * downstream, on H2 and on PostgreSQL.
 */
@ParameterizedClass
@EnumSource(Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmtpAuthIT {
    @TempDir
    static Path dir;

    @Parameter
    Kind kind;

    private RelayHarness relay;

    @BeforeParameterizedClassInvocation
    void start(Kind kind) {
        // This class refuses many AUTHs from 127.0.0.1 on purpose; AuthThrottleIT is where throttling is tested.
        relay = RelayHarness.builder(dir.resolve(kind.name())).passthrough().store(kind).implicitTls()
                .set(Setting.LIMITS_AUTH_FAILURES, "1000").set(Setting.LIMITS_AUTH_DELAY, "0").start();
    }

    @AfterParameterizedClassInvocation
    void stop() {
        relay.close();
    }

    private Session mailSession(String mechanism, boolean implicitTls, String key, String username) {
        Properties p = new Properties();
        String proto = implicitTls ? "smtps" : "smtp";
        p.put("mail.transport.protocol", proto);
        p.put("mail." + proto + ".host", "127.0.0.1");
        p.put("mail." + proto + ".port", Integer.toString(implicitTls ? relay.implicitTlsPort() : relay.smtpPort()));
        p.put("mail." + proto + ".auth", "true");
        p.put("mail." + proto + ".auth.mechanisms", mechanism);
        p.put("mail." + proto + ".ssl.socketFactory", relay.clientTls().getSocketFactory());
        p.put("mail." + proto + ".ssl.checkserveridentity", "true");
        if (!implicitTls) {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
        }
        p.put("mail." + proto + ".connectiontimeout", "5000");
        p.put("mail." + proto + ".timeout", "20000");
        return Session.getInstance(p, new jakarta.mail.Authenticator() {
            @Override
            protected jakarta.mail.PasswordAuthentication getPasswordAuthentication() {
                return new jakarta.mail.PasswordAuthentication(username, key);
            }
        });
    }

    private void sendWithJakartaMail(String mechanism, boolean implicitTls, String key, String to) throws Exception {
        Session session = mailSession(mechanism, implicitTls, key, "SMTP_Injection");
        MimeMessage m = new MimeMessage(session);
        m.setFrom("app@example.com");
        m.setRecipients(Message.RecipientType.TO, to);
        m.setSubject("hello via " + mechanism);
        m.setText("body");
        m.saveChanges();
        try (Transport t = session.getTransport(implicitTls ? "smtps" : "smtp")) {
            t.connect();
            t.sendMessage(m, m.getAllRecipients());
        }
    }

    private boolean delivered(String to) {
        return relay.greenMail().getReceivedMessagesForDomain(to.substring(to.indexOf('@') + 1)).length > 0
                && java.util.Arrays.stream(relay.greenMail().getReceivedMessages()).anyMatch(m -> {
                    try {
                        return InternetAddress.toString(m.getAllRecipients()).contains(to);
                    } catch (jakarta.mail.MessagingException e) {
                        return false;
                    }
                });
    }

    private static String rcpt() {
        return "r" + UUID.randomUUID().toString().substring(0, 8) + "@dest.test";
    }

    @Test
    void plainAndLogin_overStartTls_andImplicitTls_relayTheMessage() throws Exception {
        CreatedKey key = relay.createKey("jakarta", Grant.SMTP_INJECT);
        for (String mech : List.of("PLAIN", "LOGIN")) {
            for (boolean implicit : List.of(false, true)) {
                String to = rcpt();
                sendWithJakartaMail(mech, implicit, key.secret(), to);
                await().atMost(Duration.ofSeconds(5)).until(() -> delivered(to));
            }
        }
    }

    @Test
    void authBeforeStartTls_isNotAdvertised_andRefused538() {
        CreatedKey key = relay.createKey("plain");
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            RawSmtpClient.Reply ehlo = c.ehlo();
            assertThat(ehlo.lines()).contains("STARTTLS").noneMatch(l -> l.startsWith("AUTH"));
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret()))
                    .assertCode(538);
            c.command("MAIL FROM:<a@example.com>").assertCode(530);
            c.startTls(relay.clientTls());
            assertThat(c.ehlo().lines()).contains("AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        }
    }

    @Test
    void mailBeforeAuth_is530() {
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            RawSmtpClient.Reply r = c.command("MAIL FROM:<a@example.com>").assertCode(530);
            assertThat(r.text()).startsWith("5.7.0");
            c.command("RCPT TO:<b@example.com>").assertCode(530);
            c.command("DATA").assertCode(530);
        }
    }

    @Test
    void authLogin_exchange_andAuthReplyTexts() {
        CreatedKey key = relay.createKey("login");
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            assertThat(c.command("AUTH LOGIN").assertCode(334).text()).isEqualTo("VXNlcm5hbWU6");
            assertThat(c.command(RawSmtpClient.b64("SMTP_Injection")).assertCode(334).text()).isEqualTo("UGFzc3dvcmQ6");
            assertThat(c.command(RawSmtpClient.b64(key.secret())).assertCode(235).text())
                    .isEqualTo("2.7.0 Authentication successful");
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(503);
        }
    }

    private RawSmtpClient.Reply authReply(String username, String secret, String from) {
        try (RawSmtpClient c = from == null ? relay.connect() : relay.connectFrom(from)) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            return c.command("AUTH PLAIN " + RawSmtpClient.plain(username, secret));
        }
    }

    private void assertRefused(String reason, String username, String secret, String from, CreatedKey key) {
        double before = counter("denied", reason);
        try (LogCapture log = LogCapture.of("io.keyrelay.smtp")) {
            RawSmtpClient.Reply r = authReply(username, secret, from);
            assertThat(r.code()).as("reason %s", reason).isEqualTo(535);
            assertThat(r.text()).isEqualTo("5.7.8 Authentication credentials invalid");
            assertThat(log.all()).contains("AUTH refused: reason=" + reason)
                    .doesNotContain(secret);
            if (key != null) {
                assertThat(log.all()).contains("key_id=" + key.key().id()).contains("short_key=" + key.key().shortKey());
            }
        }
        assertThat(counter("denied", reason)).isEqualTo(before + 1);
    }

    private double counter(String result, String reason) {
        var c = relay.runtime().registry().find("keyrelay.auth.attempts").tag("result", result).tag("reason", reason)
                .counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void everyRefusalReason_gives535_andLogsTheReason_neverTheKey() {
        // unknown: well-formed but never issued, and not even key-shaped
        assertRefused("unknown", "SMTP_Injection", "0123456789abcdef0123456789abcdef01234567", null, null);
        assertRefused("unknown", "SMTP_Injection", "not-a-key", null, null);

        CreatedKey revoked = relay.createKey("revoked");
        relay.runtime().keyService().revoke(revoked.key().id(), Actor.CLI);
        assertRefused("revoked", "SMTP_Injection", revoked.secret(), null, revoked);

        CreatedKey expiring = relay.createExpiringKey(Duration.ofMillis(1500));
        await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ofMillis(1600)).until(() -> true);
        assertRefused("expired", "SMTP_Injection", expiring.secret(), null, expiring);

        CreatedKey noGrant = relay.createKey("viewer", Grant.API_KEYS_VIEW);
        assertRefused("missing_grant", "SMTP_Injection", noGrant.secret(), null, noGrant);

        CreatedKey pinned = relay.createKey(new KeySpec("pinned", Set.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("127.0.0.2"), null, null));
        assertRefused("ip_not_allowed", "SMTP_Injection", pinned.secret(), "127.0.0.3", pinned);

        CreatedKey good = relay.createKey("good");
        assertRefused("bad_username", "someone@example.com", good.secret(), null, good);

        CreatedKey sub7 = relay.createKey(new KeySpec("sub7", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, 7L, null));
        assertRefused("subaccount_mismatch", "SMTP_Injection:X-MSYS-SUBACCOUNT=8", sub7.secret(), null, sub7);
    }

    @Test
    void allowlist_matchesDistinctLoopbackSources_v4AndV6() {
        CreatedKey v4 = relay.createKey(new KeySpec("v4", Set.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("127.0.0.2/32"), null, null));
        authReply("SMTP_Injection", v4.secret(), "127.0.0.2").assertCode(235);
        authReply("SMTP_Injection", v4.secret(), "127.0.0.3").assertCode(535);
        authReply("SMTP_Injection", v4.secret(), "::1").assertCode(535);

        CreatedKey v6 = relay.createKey(new KeySpec("v6", Set.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("::1/128, 10.0.0.0/8"), null, null));
        authReply("SMTP_Injection", v6.secret(), "::1").assertCode(235);
        authReply("SMTP_Injection", v6.secret(), "127.0.0.2").assertCode(535);

        CreatedKey block = relay.createKey(new KeySpec("block", Set.of(Grant.SMTP_INJECT),
                IpAllowlist.parseText("127.0.0.0/30"), null, null));
        authReply("SMTP_Injection", block.secret(), "127.0.0.3").assertCode(235);
        authReply("SMTP_Injection", block.secret(), "127.0.0.4").assertCode(535);
    }

    @Test
    void subaccountUsername_selectsTheSubaccount_andIsLogged() {
        CreatedKey primary = relay.createKey("primary");
        CreatedKey sub5 = relay.createKey(new KeySpec("sub5", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, 5L, null));
        authReply("SMTP_Injection:X-MSYS-SUBACCOUNT=42", primary.secret(), null).assertCode(235);
        authReply("SMTP_Injection:X-MSYS-SUBACCOUNT=5", sub5.secret(), null).assertCode(235);
        authReply("SMTP_Injection:X-MSYS-SUBACCOUNT=x", primary.secret(), null).assertCode(535);

        try (LogCapture log = LogCapture.of("io.keyrelay.smtp");
                RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection:X-MSYS-SUBACCOUNT=42", primary.secret()))
                    .assertCode(235);
            c.send("a@example.com", List.of(rcpt()), "Subject: s\r\n\r\nx\r\n".getBytes()).assertCode(250);
            c.command("QUIT");
            await().atMost(Duration.ofSeconds(5)).until(() -> log.all().contains("subaccount=42"));
        }
    }

    @Test
    void revocation_takesEffectAtOnceInProcess() {
        CreatedKey key = relay.createKey("to-revoke");
        authReply("SMTP_Injection", key.secret(), null).assertCode(235);
        relay.runtime().keyService().revoke(key.key().id(), Actor.CLI);
        authReply("SMTP_Injection", key.secret(), null).assertCode(535);
    }

    @Test
    void grantRemoval_fromAnotherProcess_takesEffectWithinAboutASecond() throws Exception {
        CreatedKey key = relay.createKey("remote-change");
        authReply("SMTP_Injection", key.secret(), null).assertCode(235); // now cached
        Process p = cli("keys", "revoke", key.key().id());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes())).isZero();
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> authReply("SMTP_Injection", key.secret(), null).code() == 535);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
    }

    private Process cli(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                System.getProperty("keyrelay.jar", "target/keyrelay.jar")));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(relay.db().env());
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    @Test
    void keyChange_inProcess_updatesGrantsAtOnce() {
        CreatedKey key = relay.createKey("grant-change");
        authReply("SMTP_Injection", key.secret(), null).assertCode(235);
        relay.runtime().keyService().update(key.key().id(), KeyUpdate.none().withGrants(EnumSet.of(Grant.METRICS_VIEW)),
                Actor.CLI);
        authReply("SMTP_Injection", key.secret(), null).assertCode(535);
    }

    @Test
    void warmAuth_makesNoStoreRead() {
        CreatedKey key = relay.createKey("warm");
        // Let the change poller see the creation notice first (it drops the key from the cache once).
        await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3)).until(() -> true);
        authReply("SMTP_Injection", key.secret(), null).assertCode(235);
        long reads = relay.runtime().keyLookup().storeReads();
        for (int i = 0; i < 5; i++) {
            authReply("SMTP_Injection", key.secret(), null).assertCode(235);
        }
        assertThat(relay.runtime().keyLookup().storeReads()).isEqualTo(reads);
    }

}
