package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-key sending limits enforced inside real SMTP sessions: rates and quotas answered with 451 4.7.1 at MAIL so
 * clients retry, the key's recipient and size limits, what counts and what is given back, many concurrent sessions
 * of one key, and limit changes reaching open sessions. The relay's clock is moved by the test, never waited for.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyLimitsIT {
    private static final byte[] MESSAGE = "Subject: limits\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dir;

    private final MutableClock clock = new MutableClock(java.time.Instant.parse("2030-05-01T12:00:00Z"));
    private ScriptedMta mta;
    private RelayHarness relay;

    @BeforeAll
    void start() {
        mta = new ScriptedMta().dataReply(d -> new String(d, StandardCharsets.US_ASCII).contains("REJECT-ME")
                ? "554 5.7.1 Rejected by policy" : "250 2.0.0 Ok: queued as SCRIPTED");
        relay = RelayHarness.builder(dir.resolve("relay")).passthrough().downstreamPort(mta.port()).clock(clock).start();
    }

    @AfterAll
    void stop() {
        relay.close();
        mta.close();
    }

    private CreatedKey key(String label, KeyLimits limits) {
        return relay.createKey(new KeySpec(label, Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null, null, limits));
    }

    private static RawSmtpClient.Reply send(RawSmtpClient c, byte[] content) {
        RawSmtpClient.Reply mail = c.command("MAIL FROM:<app@example.com>");
        if (mail.code() != 250) {
            return mail;
        }
        c.command("RCPT TO:<someone@dest.test>").assertCode(250);
        c.command("DATA").assertCode(354);
        c.write(RawSmtpClient.stuff(content));
        return c.read();
    }

    private double refusals(KeyLimits.Limit limit) {
        var counter = relay.runtime().registry().find("keyrelay.limit.refusals").tag("limit", limit.wireName())
                .counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void perMinuteRate_isRefused451NamingTheLimit_andRefillsAsTheClockMoves() {
        CreatedKey key = key("two a minute", new KeyLimits(2L, null, null, null));
        double before = refusals(KeyLimits.Limit.MESSAGES_PER_MINUTE);
        try (LogCapture log = LogCapture.of("io.keyrelay.smtp"); RawSmtpClient c = relay.authenticated(key.secret())) {
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(250);
            RawSmtpClient.Reply refused = send(c, MESSAGE).assertCode(451);
            assertThat(refused.text()).isEqualTo(
                    "4.7.1 Rate limit reached: this API key may send 2 messages per minute; try again shortly");
            assertThat(log.all()).contains("MAIL refused: key_id=" + key.key().id(),
                    "short_key=" + key.key().shortKey(), "limit=messages_per_minute (2)");
            // The session goes on: after half a minute one more message is allowed, and only one.
            clock.advance(Duration.ofSeconds(30));
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(451);
        }
        assertThat(refusals(KeyLimits.Limit.MESSAGES_PER_MINUTE)).isEqualTo(before + 2);
    }

    @Test
    void dailyQuota_isRefused451_untilMidnightUtc() {
        CreatedKey key = key("two a day", new KeyLimits(null, 2L, null, null));
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(250);
            assertThat(send(c, MESSAGE).assertCode(451).text()).isEqualTo("4.7.1 Daily quota reached: this API key"
                    + " may send 2 messages per UTC day; try again after 00:00 UTC");
            LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
            clock.advance(Duration.between(clock.instant(), today.plusDays(1).atStartOfDay(ZoneOffset.UTC)));
            send(c, MESSAGE).assertCode(250);
        }
    }

    @Test
    void aMessageTheDownstreamDidNotAccept_usesNoQuota() {
        CreatedKey key = key("one a day", new KeyLimits(null, 1L, null, 2048L));
        String id = key.key().id();
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            // Abandoned with RSET after RCPT.
            c.command("MAIL FROM:<app@example.com>").assertCode(250);
            c.command("RCPT TO:<someone@dest.test>").assertCode(250);
            c.command("RSET").assertCode(250);
            // Refused by the downstream at the end of DATA.
            send(c, "Subject: x\r\n\r\nREJECT-ME\r\n".getBytes(StandardCharsets.US_ASCII)).assertCode(554);
            // Over the key's size limit, read to its end and refused.
            send(c, ("Subject: big\r\n\r\n" + "x".repeat(3000) + "\r\n").getBytes(StandardCharsets.US_ASCII))
                    .assertCode(552);
            // The session gives the count back just after it sends the reply, before it reads the next command.
            c.command("NOOP").assertCode(250);
            assertThat(relay.runtime().limiter().countedToday(id)).isZero();
        }
        // A client that goes away in the middle of a transaction.
        RawSmtpClient gone = relay.authenticated(key.secret());
        gone.command("MAIL FROM:<app@example.com>").assertCode(250);
        assertThat(relay.runtime().limiter().countedToday(id)).isEqualTo(1);
        gone.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> relay.runtime().limiter().countedToday(id) == 0);

        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(451);
        }
        assertThat(relay.runtime().limiter().countedToday(id)).isEqualTo(1);
    }

    @Test
    void recipientsPerMessage_isTheKeysOwn_belowOrAboveTheDefault() {
        CreatedKey two = key("two recipients", new KeyLimits(null, null, 2L, null));
        try (RawSmtpClient c = relay.authenticated(two.secret())) {
            c.command("MAIL FROM:<app@example.com>").assertCode(250);
            c.command("RCPT TO:<a@dest.test>").assertCode(250);
            c.command("RCPT TO:<b@dest.test>").assertCode(250);
            assertThat(c.command("RCPT TO:<c@dest.test>").assertCode(452).text()).isEqualTo("4.5.3 Too many recipients");
            c.command("DATA").assertCode(354);
            c.write(RawSmtpClient.stuff(MESSAGE));
            c.read().assertCode(250);
        }
        assertThat(mta.received()).anySatisfy(m -> assertThat(m.to()).containsExactly("a@dest.test", "b@dest.test"));

        CreatedKey many = key("many recipients", new KeyLimits(null, null, 120L, null));
        try (RawSmtpClient c = relay.authenticated(many.secret())) {
            c.command("MAIL FROM:<app@example.com>").assertCode(250);
            for (int i = 0; i < 120; i++) {
                c.command("RCPT TO:<r" + i + "@dest.test>").assertCode(250); // smtp.max_recipients is 100
            }
            c.command("RCPT TO:<one-more@dest.test>").assertCode(452);
        }
    }

    @Test
    void messageSize_isTheKeysOwn_advertisedAfterAuth_checkedAtMailAndCountedOnData() {
        CreatedKey small = key("small messages", new KeyLimits(null, null, null, 2048L));
        int before = mta.received().size();
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            assertThat(c.ehlo().lines()).contains("SIZE " + (50L << 20));
            c.startTls(relay.clientTls());
            c.ehlo();
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", small.secret())).assertCode(235);
            assertThat(c.ehlo().lines()).as("after AUTH, the key's own limit").contains("SIZE 2048");
            assertThat(c.command("MAIL FROM:<app@example.com> SIZE=4096").assertCode(552).text())
                    .isEqualTo("5.3.4 Message size exceeds fixed maximum message size");
            byte[] big = ("Subject: big\r\n\r\n" + "y".repeat(4000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            send(c, big).assertCode(552);
            send(c, MESSAGE).assertCode(250); // the session goes on
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().size() == before + 1);
        assertThat(mta.received().get(before).data()).isNotEqualTo(null);
        assertThat(new String(mta.received().get(before).data(), StandardCharsets.US_ASCII)).doesNotContain("yyyy");

        CreatedKey huge = key("huge messages", new KeyLimits(null, null, null, 100L << 20));
        try (RawSmtpClient c = relay.authenticated(huge.secret())) {
            assertThat(c.ehlo().lines()).as("never above smtp.max_message_size").contains("SIZE " + (50L << 20));
            c.command("MAIL FROM:<app@example.com> SIZE=" + (60L << 20)).assertCode(552);
        }
    }

    @Test
    void manySessionsOfOneKey_atOnce_sendExactlyTheQuota() throws Exception {
        CreatedKey key = key("shared quota", new KeyLimits(null, 30L, null, null));
        int sessions = 12;
        int attemptsEach = 5;
        int before = mta.received().size();
        ConcurrentLinkedQueue<Integer> codes = new ConcurrentLinkedQueue<>();
        CountDownLatch ready = new CountDownLatch(sessions);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < sessions; i++) {
                done.add(pool.submit(() -> {
                    try (RawSmtpClient c = relay.authenticated(key.secret())) {
                        ready.countDown();
                        go.await();
                        for (int m = 0; m < attemptsEach; m++) {
                            codes.add(send(c, MESSAGE).code());
                        }
                    }
                    return null;
                }));
            }
            assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        assertThat(codes).hasSize(sessions * attemptsEach);
        assertThat(codes.stream().filter(c -> c == 250)).hasSize(30);
        assertThat(codes.stream().filter(c -> c == 451)).hasSize(sessions * attemptsEach - 30);
        await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().size() == before + 30);
        assertThat(relay.runtime().limiter().countedToday(key.key().id())).isEqualTo(30);
    }

    @Test
    void aChangedLimit_reachesASessionThatIsAlreadyOpen() {
        CreatedKey key = key("changed", KeyLimits.DEFAULTS);
        try (RawSmtpClient c = relay.authenticated(key.secret())) {
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(250);
            relay.runtime().keyService().update(key.key().id(),
                    KeyUpdate.none().withLimit(KeyLimits.Limit.MESSAGES_PER_MINUTE, 1L), Actor.CLI);
            // The change dropped the key from the cache; the session's next MAIL reloads it (MailCommand rechecks
            // the key), so the new limit applies at once. Counting starts with the limit.
            send(c, MESSAGE).assertCode(250);
            send(c, MESSAGE).assertCode(451);
        }
    }

    @Test
    void theConfiguredDefault_appliesToKeysWithoutTheirOwn_andAKeyMayBeUnlimited() {
        try (RelayHarness limited = RelayHarness.builder(dir.resolve("limited")).passthrough().downstreamPort(mta.port()).clock(clock)
                .set(Setting.LIMITS_MESSAGES_PER_MINUTE, "1").start()) {
            CreatedKey plain = limited.createKey("default limits");
            CreatedKey unlimited = limited.createKey(new KeySpec("bulk", Set.of(Grant.SMTP_INJECT), IpAllowlist.ANY,
                    null, null, new KeyLimits(0L, null, null, null)));
            try (RawSmtpClient c = limited.authenticated(plain.secret())) {
                send(c, MESSAGE).assertCode(250);
                assertThat(send(c, MESSAGE).assertCode(451).text()).contains("1 messages per minute");
            }
            try (RawSmtpClient c = limited.authenticated(unlimited.secret())) {
                for (int i = 0; i < 5; i++) {
                    send(c, MESSAGE).assertCode(250);
                }
            }
        }
    }
}
