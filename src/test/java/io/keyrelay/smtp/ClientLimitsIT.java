package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one client address or one session may take, on real sockets: concurrent connections and new connections per
 * address, a deadline per command line (however slowly it trickles), for the whole message, for authenticating and
 * for the envelope, and budgets of errors and junk commands — each ending in {@code 421 4.7.0} and a closed
 * connection, while other clients are served.
 */
class ClientLimitsIT {
    @TempDir
    Path dir;

    private static RawSmtpClient authenticated(RawSmtpClient c, CreatedKey key) {
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        return c;
    }

    /** Writes {@code bytes} one at a time, {@code gap} apart, on a thread of its own, until done or refused. */
    private static Thread trickle(RawSmtpClient c, byte[] bytes, Duration gap) {
        return Thread.ofVirtual().start(() -> {
            for (byte b : bytes) {
                try {
                    c.write(new byte[] {b});
                    Thread.sleep(gap); // the slow client's own pace, not a wait for the relay
                } catch (RuntimeException | InterruptedException e) {
                    return; // the relay closed the connection
                }
            }
        });
    }

    private static void awaitSessions(RelayHarness relay, int n) {
        await().atMost(Duration.ofSeconds(5)).until(() -> relay.runtime().metrics().activeSessions() == n);
    }

    /** Sends {@code command} until its reply is not 250, for at most {@code within}; returns the last reply. */
    private static RawSmtpClient.Reply repeatUntilRefused(RawSmtpClient c, String command, Duration within) {
        long end = System.nanoTime() + within.toNanos();
        RawSmtpClient.Reply r;
        do {
            r = c.command(command);
        } while (r.code() == 250 && System.nanoTime() < end);
        return r;
    }

    private static void assertClosedWith(RawSmtpClient c, String text) {
        RawSmtpClient.Reply r = c.read().assertCode(421);
        assertThat(r.text()).isEqualTo(text);
        assertThat(c.closedByServer()).isTrue();
    }

    @Test
    void oneAddress_getsAtMostItsShareOfSessions_andOfNewConnections_andOthersAreServed() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback")
                        .set(Setting.SMTP_MAX_CONNECTIONS_PER_IP, "3")
                        .set(Setting.SMTP_MAX_CONNECTION_RATE_PER_IP, "6").start()) {
            List<RawSmtpClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawSmtpClient c = relay.connectFrom("127.0.0.2");
                    c.expect(220);
                    held.add(c);
                }
                try (RawSmtpClient fourth = relay.connectFrom("127.0.0.2")) {
                    assertClosedWith(fourth, "4.7.0 Too many connections from your address; try again later");
                }
                try (RawSmtpClient other = relay.connectFrom("127.0.0.3")) {
                    other.expect(220);
                    other.ehlo();
                }
                held.remove(0).close();
                awaitSessions(relay, 2);
                try (RawSmtpClient again = relay.connectFrom("127.0.0.2")) {
                    again.expect(220); // a place freed is usable again: the 5th new connection in this window
                }
                awaitSessions(relay, 2);
                try (RawSmtpClient sixth = relay.connectFrom("127.0.0.2")) {
                    sixth.expect(220);
                }
                awaitSessions(relay, 2);
                try (RawSmtpClient seventh = relay.connectFrom("127.0.0.2")) { // 2 open, but the 7th this minute
                    assertClosedWith(seventh, "4.7.0 Too many new connections from your address; try again later");
                }
            } finally {
                held.forEach(RawSmtpClient::close);
            }
        }
    }

    @Test
    void aCommandLineTrickledByteByByte_isCutOffByItsDeadline_thoughEveryReadIsQuick() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_IDLE_TIMEOUT, "30s")
                        .set(Setting.SMTP_COMMAND_TIMEOUT, "1s").start()) {
            try (RawSmtpClient c = relay.connect()) {
                c.expect(220);
                long t0 = System.nanoTime();
                Thread t = trickle(c, "EHLO a-very-slow-client.example.com\r\n".getBytes(StandardCharsets.US_ASCII),
                        Duration.ofMillis(200)); // 7 s for the line: far past its deadline, never 200 ms idle
                assertClosedWith(c, "4.7.0 Command line not completed in time; closing connection");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
                t.interrupt();
            }
            try (RawSmtpClient quick = relay.connect()) { // and a client that talks normally is unaffected
                quick.expect(220);
                quick.ehlo();
            }
        }
    }

    @Test
    void aMessageTrickledLineByLine_isCutOffByTheDataDeadline_andNothingIsRelayed() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_IDLE_TIMEOUT, "30s")
                        .set(Setting.SMTP_DATA_TIMEOUT, "1s").start()) {
            CreatedKey key = relay.createKey("slow data");
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<slow@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                StringBuilder body = new StringBuilder("Subject: slow\r\n\r\n");
                for (int i = 0; i < 40; i++) {
                    body.append("line ").append(i).append("\r\n");
                }
                body.append(".\r\n");
                Thread t = trickle(c, body.toString().getBytes(StandardCharsets.US_ASCII), Duration.ofMillis(20));
                assertClosedWith(c, "4.7.0 Message data not completed in time; closing connection");
                t.interrupt();
            }
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                c.send("a@example.com", List.of("fast@dest.test"), "Subject: ok\r\n\r\nok\r\n".getBytes())
                        .assertCode(250);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().size() == 1);
            assertThat(mta.received()).noneMatch(m -> m.to().contains("slow@dest.test"));
        }
    }

    @Test
    void aSessionThatDoesNotAuthenticateInTime_isClosed_evenWhileItKeepsTalking_onEveryPort() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port()).implicitTls()
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_AUTH_TIMEOUT, "1s").start()) {
            CreatedKey key = relay.createKey("auth in time");
            for (boolean implicit : new boolean[] {false, true}) {
                try (RawSmtpClient c = implicit
                        ? RawSmtpClient.connectTls("127.0.0.1", relay.implicitTlsPort(), relay.clientTls())
                        : relay.connect()) {
                    c.expect(220);
                    // EHLO after EHLO keeps every read short (and is no junk command): only the deadline ends this.
                    RawSmtpClient.Reply r = repeatUntilRefused(c, "EHLO talkative.test", Duration.ofSeconds(10));
                    assertThat(r.code()).as("implicit TLS: %s", implicit).isEqualTo(421);
                    assertThat(r.text()).isEqualTo("4.7.0 Not authenticated in time; closing connection");
                    assertThat(c.closedByServer()).isTrue();
                }
            }
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                        .until(() -> c.command("NOOP").code() == 250); // authenticated: the deadline is gone
            }
        }
    }

    @Test
    void anEnvelopeHeldOpenWithNoops_isClosedByTheTransactionDeadline() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_TRANSACTION_TIMEOUT, "1s")
                        .set(Setting.SMTP_JUNK_COMMAND_LIMIT, "100000").start()) {
            CreatedKey key = relay.createKey("held envelope");
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<held@dest.test>").assertCode(250);
                RawSmtpClient.Reply r = repeatUntilRefused(c, "NOOP", Duration.ofSeconds(10));
                assertThat(r.text()).isEqualTo("4.7.0 Mail transaction not completed in time; closing connection");
                assertThat(c.closedByServer()).isTrue();
            }
            assertThat(mta.received()).isEmpty();
        }
    }

    @Test
    void twentyErrors_closeTheSession_andJunkPastItsLimitCountsAsErrors_butADeliveryStartsBothAgain() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").start()) {
            CreatedKey key = relay.createKey("errors");
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                for (int i = 0; i < 19; i++) {
                    c.command("BOGUS " + i).assertCode(500);
                }
                c.send("a@example.com", List.of("reset@dest.test"), "Subject: r\r\n\r\nr\r\n".getBytes())
                        .assertCode(250); // delivered: the count starts again
                for (int i = 0; i < 19; i++) {
                    c.command("RCPT TO:<x@dest.test>").assertCode(503);
                }
                c.command("NOOP").assertCode(250);
                c.send("DATA");
                c.read().assertCode(503); // the 20th error since the delivery
                assertClosedWith(c, "4.7.0 Too many errors; closing connection");
            }
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                int noops = 0;
                RawSmtpClient.Reply r;
                do {
                    r = c.command("NOOP");
                    noops++;
                } while (r.code() == 250 && noops < 1000);
                // 100 junk commands are free (smtp.junk_command_limit), each after counts as an error: 20 more.
                assertThat(noops).isEqualTo(121);
                assertThat(r.text()).isEqualTo("4.7.0 Too many errors; closing connection");
            }
        }
    }

    @Test
    void recipientsPastTheLimit_areNoErrors_upToTheOvershoot_andThenTheyAre() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.SMTP_MAX_RECIPIENTS, "2").start()) {
            CreatedKey key = relay.createKey("overshoot");
            try (RawSmtpClient c = authenticated(relay.connect(), key)) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<r1@dest.test>").assertCode(250);
                c.command("RCPT TO:<r2@dest.test>").assertCode(250);
                StringBuilder more = new StringBuilder();
                int n = SessionBudget.RECIPIENT_OVERSHOOT + 40;
                for (int i = 0; i < n; i++) {
                    more.append("RCPT TO:<o").append(i).append("@dest.test>\r\n");
                }
                Thread.ofVirtual().start(() -> {
                    try {
                        c.write(more.toString().getBytes(StandardCharsets.US_ASCII));
                    } catch (RuntimeException closed) {
                        // closed before the last of them
                    }
                });
                int refused = 0;
                RawSmtpClient.Reply r;
                while ((r = c.read()).code() == 452) {
                    refused++;
                }
                assertThat(refused).isEqualTo(SessionBudget.RECIPIENT_OVERSHOOT + 20);
                assertThat(r.code()).isEqualTo(421);
            }
        }
    }

    @Test
    void behindATrustedProxy_theLimitsApplyToTheAddressInTheHeader_andAnIpv4MappedTcp6SourceIsAccepted() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "always").set(Setting.SMTP_PROXY_PROTOCOL, "v1")
                        .set(Setting.SMTP_PROXY_TRUSTED, "127.0.0.1").set(Setting.SMTP_MAX_CONNECTIONS_PER_IP, "2")
                        .start()) {
            CreatedKey onlyFrom2 = relay.createKey(new io.keyrelay.keys.KeySpec("from .2",
                    java.util.EnumSet.of(io.keyrelay.keys.Grant.SMTP_INJECT),
                    io.keyrelay.net.IpAllowlist.parse(List.of("127.0.0.2")), null, null));
            List<RawSmtpClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) { // both from the proxy's 127.0.0.1, for the client 192.0.2.7
                    RawSmtpClient c = relay.connect();
                    c.send("PROXY TCP4 192.0.2.7 192.0.2.1 4000" + i + " 587");
                    c.expect(220);
                    held.add(c);
                }
                try (RawSmtpClient third = relay.connect()) {
                    third.send("PROXY TCP4 192.0.2.7 192.0.2.1 40002 587");
                    assertClosedWith(third, "4.7.0 Too many connections from your address; try again later");
                }
                // HAProxy on a dual-stack listener sends an IPv4 client as IPv4-mapped TCP6: that is 127.0.0.2, whom
                // the key allows — and another address than 192.0.2.7, so it has places of its own.
                try (RawSmtpClient mapped = relay.connect()) {
                    mapped.send("PROXY TCP6 ::ffff:127.0.0.2 ::ffff:127.0.0.1 40003 587");
                    mapped.expect(220);
                    mapped.ehlo();
                    mapped.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", onlyFrom2.secret()))
                            .assertCode(235);
                }
            } finally {
                held.forEach(RawSmtpClient::close);
            }
        }
    }

    @Test
    void aTrustedProxyThatSendsPartOfAHeaderAndStops_isClosedAfterTheProxyTimeout() {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().downstreamPort(mta.port())
                        .set(Setting.SMTP_PROXY_PROTOCOL, "any").set(Setting.SMTP_PROXY_TRUSTED, "127.0.0.1")
                        .set(Setting.SMTP_PROXY_TIMEOUT, "1s").start()) {
            for (String part : List.of("PROX", "PROXY TCP4 192.0.2.7", "\r\n\r\n\0")) {
                try (RawSmtpClient c = relay.connect()) {
                    long t0 = System.nanoTime();
                    c.write(part.getBytes(StandardCharsets.ISO_8859_1)); // fewer than 12 bytes, or no CRLF
                    RawSmtpClient.Reply r = c.read().assertCode(421);
                    assertThat(r.text()).isEqualTo("4.3.0 PROXY protocol header missing or invalid");
                    assertThat(c.closedByServer()).isTrue();
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as(part).isLessThan(Duration.ofSeconds(8));
                }
            }
            try (RawSmtpClient silent = relay.connect()) { // nothing at all: dropped without a reply, as a health check
                assertThat(silent.closedByServerAfterAnyBytes()).isTrue();
            }
            try (RawSmtpClient ok = relay.connect()) {
                ok.send("PROXY TCP4 192.0.2.9 192.0.2.1 40000 587");
                ok.expect(220);
            }
        }
    }
}
