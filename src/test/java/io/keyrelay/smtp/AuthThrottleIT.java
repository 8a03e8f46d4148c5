package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.RawHttp;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brute force against SMTP AUTH, from distinct loopback addresses: the address that fails too often is refused at
 * AUTH and at connect while others carry on; random guesses cost a bounded number of store reads; and the delay
 * before each failure is answered holds no platform thread.
 */
class AuthThrottleIT {
    @TempDir
    Path dir;

    private static final SecureRandom RANDOM = new SecureRandom();

    private static String randomKey() {
        byte[] b = new byte[20];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static RawSmtpClient.Reply tryAuth(RawSmtpClient c, String key) {
        return c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key));
    }

    private double count(RelayHarness relay, String name, String tag, String value) {
        var c = relay.runtime().registry().find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void tooManyFailures_getTheAddressRefused_atAuthAndAtConnect_whileOtherAddressesCarryOn() {
        int adminPort = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_DELAY, "10ms").set(Setting.ADMIN_PORT, Integer.toString(adminPort)).start();
                LogCapture log = LogCapture.of("io.keyrelay")) {
            CreatedKey good = relay.createKey("good");
            List<String> guesses = new ArrayList<>();
            try (RawSmtpClient c = relay.connectFrom("127.0.0.2")) {
                c.expect(220);
                c.ehlo();
                for (int i = 0; i < 4; i++) {
                    String guess = randomKey();
                    guesses.add(guess);
                    tryAuth(c, guess).assertCode(535);
                }
                c.command("NOOP").assertCode(250); // four failures: the session goes on
                String fifth = randomKey();
                guesses.add(fifth);
                RawSmtpClient.Reply r = tryAuth(c, fifth).assertCode(421);
                assertThat(r.text()).isEqualTo("4.7.0 Too many failed authentication attempts; try again later");
                assertThat(c.closedByServer()).isTrue();
            }
            try (RawSmtpClient c = relay.connectFrom("127.0.0.2")) {
                assertThat(c.read().assertCode(421).text()).startsWith("4.7.0");
                assertThat(c.closedByServer()).as("refused at connect").isTrue();
            }
            // The ban covers the admin API too (one throttle for both: the same keys can be guessed on either).
            assertThat(RawHttp.status("127.0.0.2", adminPort, "/api/v1/api-keys", good.secret())).isEqualTo(429);
            assertThat(RawHttp.status("127.0.0.3", adminPort, "/api/v1/api-keys", good.secret()))
                    .as("not banned; the key lacks api_keys/view").isEqualTo(403);
            try (RawSmtpClient c = relay.connectFrom("127.0.0.3")) {
                c.expect(220);
                c.ehlo();
                tryAuth(c, good.secret()).assertCode(235);
                c.send("a@example.com", List.of("r@dest.test"), "Subject: s\r\n\r\nb\r\n".getBytes()).assertCode(250);
            }
            assertThat(log.all()).contains("AUTH throttled: client=127.0.0.2 refused until")
                    .contains("after 5 distinct wrong keys within 5m");
            for (String g : guesses) {
                assertThat(log.all()).doesNotContain(g);
            }
            assertThat(relay.runtime().registry().find("keyrelay.auth.bans").counter().count()).isEqualTo(1);
            assertThat(count(relay, "keyrelay.smtp.refused", "reason", "auth_ban")).isEqualTo(1);
        }
    }

    @Test
    void guessingRandomKeys_costsAtMostAuthFailuresStoreReadsPerAddress() {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_DELAY, "0").start()) {
            long before = relay.runtime().keyLookup().storeReads();
            int refusedAtConnect = 0;
            int answered535 = 0;
            for (int i = 0; i < 40; i++) {
                try (RawSmtpClient c = relay.connectFrom("127.0.0.4")) {
                    RawSmtpClient.Reply greeting = c.read();
                    if (greeting.code() == 421) {
                        refusedAtConnect++;
                        continue;
                    }
                    c.ehlo();
                    int code = tryAuth(c, randomKey()).code();
                    answered535 += code == 535 ? 1 : 0;
                }
            }
            assertThat(answered535).isEqualTo(4);
            assertThat(refusedAtConnect).isEqualTo(35);
            assertThat(relay.runtime().keyLookup().storeReads() - before)
                    .as("40 random guesses, one read each until the address was refused").isEqualTo(5);

            // The same wrong key again and again (from addresses that stay under the limit): the negative cache.
            String wrong = randomKey();
            long mark = relay.runtime().keyLookup().storeReads();
            for (String from : List.of("127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8")) {
                try (RawSmtpClient c = relay.connectFrom(from)) {
                    c.expect(220);
                    c.ehlo();
                    tryAuth(c, wrong).assertCode(535);
                }
            }
            assertThat(relay.runtime().keyLookup().storeReads() - mark).isEqualTo(1);

            // Strings that are not key-shaped are refused without a lookup at all.
            mark = relay.runtime().keyLookup().storeReads();
            try (RawSmtpClient c = relay.connectFrom("127.0.0.9")) {
                c.expect(220);
                c.ehlo();
                tryAuth(c, "password123").assertCode(535);
                tryAuth(c, "").assertCode(535);
            }
            assertThat(relay.runtime().keyLookup().storeReads() - mark).isZero();
        }
    }

    /**
     * Python's {@code smtplib.login()} with a stale key, reproduced byte for byte: EHLO, then {@code AUTH PLAIN} with
     * the initial response, and on 535 {@code AUTH LOGIN} with the username as initial response and the same key
     * after the 334 — two refusals per login — and the application retrying. Each refusal is a 535 (never a 421),
     * the host is not banned, and its other keys and the admin API keep working; five different wrong keys from
     * another address still get it refused.
     */
    @Test
    void smtplibRetryingOneStaleKey_withPlainThenLogin_isRefusedEachTime_butDoesNotBanItsHost() {
        int adminPort = FreePorts.pick();
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_DELAY, "0").set(Setting.ADMIN_PORT, Integer.toString(adminPort)).start()) {
            CreatedKey other = relay.createKey("other app on the same host", io.keyrelay.keys.Grant.SMTP_INJECT,
                    io.keyrelay.keys.Grant.API_KEYS_VIEW);
            CreatedKey stale = relay.createKey("rotated");
            relay.runtime().keyService().revoke(stale.key().id(), io.keyrelay.keys.Actor.CLI);
            for (int attempt = 0; attempt < 12; attempt++) {
                try (RawSmtpClient c = relay.connectFrom("127.0.0.21")) {
                    c.expect(220);
                    c.ehlo();
                    tryAuth(c, stale.secret()).assertCode(535);
                    c.command("AUTH LOGIN " + RawSmtpClient.b64("SMTP_Injection")).assertCode(334);
                    c.command(RawSmtpClient.b64(stale.secret())).assertCode(535);
                    c.command("QUIT").assertCode(221);
                }
            }
            try (RawSmtpClient c = relay.connectFrom("127.0.0.21")) {
                assertThat(c.read().code()).as("the host is not refused at connect").isEqualTo(220);
                c.ehlo();
                tryAuth(c, other.secret()).assertCode(235);
            }
            assertThat(RawHttp.status("127.0.0.21", adminPort, "/api/v1/api-keys", other.secret())).isEqualTo(200);

            try (RawSmtpClient c = relay.connectFrom("127.0.0.22")) {
                c.expect(220);
                c.ehlo();
                for (int i = 0; i < 4; i++) {
                    tryAuth(c, randomKey()).assertCode(535);
                }
                tryAuth(c, randomKey()).assertCode(421);
            }
        }
    }

    @Test
    void aValidKeyFromAnAddressItDoesNotAllow_orWithoutItsGrant_isRefusedEachTime_withoutABan() {
        // 30 refusals in one session: past smtp.hard_error_limit's default, whose own closing is not this test's subject.
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_DELAY, "0").set(Setting.SMTP_HARD_ERROR_LIMIT, "100").start()) {
            CreatedKey pinned = relay.createKey(new io.keyrelay.keys.KeySpec("pinned",
                    java.util.Set.of(io.keyrelay.keys.Grant.SMTP_INJECT), io.keyrelay.net.IpAllowlist.parse(
                            List.of("127.0.0.99")), null, null));
            CreatedKey viewer = relay.createKey("no smtp/inject", io.keyrelay.keys.Grant.API_KEYS_VIEW);
            try (RawSmtpClient c = relay.connectFrom("127.0.0.23")) {
                c.expect(220);
                c.ehlo();
                for (int i = 0; i < 10; i++) {
                    tryAuth(c, pinned.secret()).assertCode(535);
                    tryAuth(c, viewer.secret()).assertCode(535);
                    c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection:X-MSYS-SUBACCOUNT=x", pinned.secret()))
                            .assertCode(535);
                }
                c.command("NOOP").assertCode(250);
            }
            try (RawSmtpClient c = relay.connectFrom("127.0.0.23")) {
                assertThat(c.read().code()).as("not refused at connect").isEqualTo(220);
            }
        }
    }

    /**
     * A hundred failed AUTHs delayed by one second each, at once. Sessions are virtual threads and the delay is a
     * sleep, which unmounts them: all hundred answers come after about a second. Were each delay to hold a
     * platform thread, the machine's few carrier threads would serialise them into tens of seconds.
     */
    @Test
    void theDelayBeforeEachFailure_holdsNoPlatformThread() throws Exception {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                .set(Setting.LIMITS_AUTH_DELAY, "1s").set(Setting.LIMITS_AUTH_FAILURES, "1000").start();
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            int n = 100;
            List<RawSmtpClient> connected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                RawSmtpClient c = relay.connectFrom("127.0.0.1" + (i % 10));
                c.expect(220);
                c.ehlo();
                connected.add(c);
            }
            long t0 = System.nanoTime();
            List<Future<Long>> answers = new ArrayList<>();
            for (RawSmtpClient c : connected) {
                answers.add(clients.submit(() -> {
                    long start = System.nanoTime();
                    tryAuth(c, randomKey()).assertCode(535);
                    return System.nanoTime() - start;
                }));
            }
            for (Future<Long> f : answers) {
                assertThat(Duration.ofNanos(f.get())).as("each failure waits the delay")
                        .isGreaterThanOrEqualTo(Duration.ofMillis(990));
            }
            Duration all = Duration.ofNanos(System.nanoTime() - t0);
            System.out.printf("%d failed AUTHs delayed 1 s each, at once: all answered after %d ms%n", n, all.toMillis());
            assertThat(all).as("%d delayed failures on %d cores", n, Runtime.getRuntime().availableProcessors())
                    .isLessThan(Duration.ofSeconds(10));
            connected.forEach(RawSmtpClient::close);
        }
    }
}
