package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.Setting;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One tenant cannot stop relaying for the others: a session idling inside a transaction holds no downstream
 * connection, junk commands there run out, and a key's concurrent sessions are capped ({@code sessions_per_key},
 * the key's own or {@code limits.sessions_per_key}). On H2 and PostgreSQL (the per-key override is stored).
 */
class KeySessionsIT {
    @TempDir
    Path dir;

    private static RawSmtpClient authenticated(RelayHarness relay, CreatedKey key) {
        RawSmtpClient c = relay.connect();
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key.secret())).assertCode(235);
        return c;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void sessionsIdlingAfterMailFrom_holdNoDownstreamConnection_soAnotherKeyStillRelays(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().store(kind).downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.DOWNSTREAM_POOL_SIZE, "2")
                        .set(Setting.DOWNSTREAM_CONNECT_TIMEOUT, "2s").start()) {
            CreatedKey hog = relay.createKey("hog");
            CreatedKey other = relay.createKey("other");
            List<RawSmtpClient> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) { // twice the pool
                    RawSmtpClient c = authenticated(relay, hog);
                    c.command("MAIL FROM:<hog@example.com>").assertCode(250);
                    c.command("NOOP").assertCode(250);
                    idle.add(c);
                }
                try (RawSmtpClient c = authenticated(relay, other)) {
                    c.send("a@example.com", List.of("other@dest.test"), "Subject: o\r\n\r\no\r\n".getBytes())
                            .assertCode(250);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> mta.received().size() == 1);
                // and each idle one can still go on and send, taking a connection only now
                for (RawSmtpClient c : idle) {
                    c.command("RCPT TO:<hog@dest.test>").assertCode(250);
                    c.command("DATA").assertCode(354);
                    c.write(RawSmtpClient.stuff("Subject: h\r\n\r\nh\r\n".getBytes()));
                    c.read().assertCode(250);
                }
            } finally {
                idle.forEach(RawSmtpClient::close);
            }
            assertThat(mta.received()).hasSize(5);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aKeysConcurrentSessions_areCappedByItsOwnLimitOrTheDefault_andAPlaceFreedIsUsable(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().store(kind).downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.LIMITS_SESSIONS_PER_KEY, "3")
                        .start()) {
            CreatedKey two = relay.createKey(new KeySpec("two sessions", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY,
                    null, null, new KeyLimits(null, null, null, null, 2L)));
            CreatedKey byDefault = relay.createKey("default: three");
            CreatedKey unlimited = relay.createKey(new KeySpec("unlimited", EnumSet.of(Grant.SMTP_INJECT),
                    IpAllowlist.ANY, null, null, new KeyLimits(null, null, null, null, 0L)));
            assertThat(relay.runtime().keyService().get(two.key().id()).limits().sessionsPerKey()).isEqualTo(2L);
            List<RawSmtpClient> open = new ArrayList<>();
            try {
                open.add(authenticated(relay, two));
                open.add(authenticated(relay, two));
                try (RawSmtpClient third = relay.connect()) {
                    third.expect(220);
                    third.ehlo();
                    RawSmtpClient.Reply r = third.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection",
                            two.secret())).assertCode(421);
                    assertThat(r.text()).isEqualTo("4.7.0 Too many concurrent sessions for this API key; try again later");
                    assertThat(third.closedByServer()).isTrue();
                }
                for (int i = 0; i < 3; i++) {
                    open.add(authenticated(relay, byDefault));
                }
                try (RawSmtpClient fourth = relay.connect()) {
                    fourth.expect(220);
                    fourth.ehlo();
                    fourth.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", byDefault.secret()))
                            .assertCode(421);
                }
                for (int i = 0; i < 5; i++) {
                    open.add(authenticated(relay, unlimited));
                }
                open.remove(0).close(); // one of "two sessions"
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> relay.runtime().metrics().activeSessions() == open.size());
                try (RawSmtpClient again = authenticated(relay, two)) {
                    again.send("a@example.com", List.of("again@dest.test"), "Subject: a\r\n\r\na\r\n".getBytes())
                            .assertCode(250);
                }
            } finally {
                open.forEach(RawSmtpClient::close);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void noopsInsideATransaction_runOut_andTheDownstreamConnectionIsGivenBack(Kind kind) {
        try (ScriptedMta mta = new ScriptedMta();
                RelayHarness relay = RelayHarness.builder(dir).passthrough().store(kind).downstreamPort(mta.port())
                        .set(Setting.SMTP_AUTH_PLAINTEXT, "loopback").set(Setting.DOWNSTREAM_POOL_SIZE, "1")
                        .set(Setting.DOWNSTREAM_CONNECT_TIMEOUT, "2s").start()) {
            CreatedKey key = relay.createKey("noops");
            try (RawSmtpClient c = authenticated(relay, key)) {
                c.command("MAIL FROM:<a@example.com>").assertCode(250);
                c.command("RCPT TO:<held@dest.test>").assertCode(250); // now it holds the one connection
                int noops = 0;
                RawSmtpClient.Reply r;
                do {
                    r = c.command("NOOP");
                    noops++;
                } while (r.code() == 250 && noops < 1000);
                assertThat(noops).isEqualTo(121);
                assertThat(r.code()).isEqualTo(421);
            }
            try (RawSmtpClient c = authenticated(relay, key)) {
                c.send("a@example.com", List.of("next@dest.test"), "Subject: n\r\n\r\nn\r\n".getBytes()).assertCode(250);
            }
        }
    }
}
