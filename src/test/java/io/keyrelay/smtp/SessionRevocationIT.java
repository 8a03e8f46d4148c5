package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Revoking a key, or narrowing it, stops sessions that authenticated with it before: at their next MAIL. */
class SessionRevocationIT {
    @TempDir
    Path dir;

    private static final byte[] MSG = "Subject: s\r\n\r\nb\r\n".getBytes();

    @Test
    void revokedKey_openSessionIsClosedWith421_atTheNextMail_andNothingIsRelayed() {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().start()) {
            CreatedKey key = relay.createKey("session");
            try (RawSmtpClient c = relay.authenticated(key.secret())) {
                c.send("a@example.com", List.of("first@dest.test"), MSG).assertCode(250);
                relay.runtime().keyService().revoke(key.key().id(), Actor.CLI);
                RawSmtpClient.Reply r = c.command("MAIL FROM:<a@example.com>");
                assertThat(r.code()).isEqualTo(421);
                assertThat(r.text()).startsWith("4.7.0");
                assertThat(c.closedByServer()).isTrue();
            }
            assertThat(relay.greenMail().getReceivedMessages()).hasSize(1);
        }
    }

    @Test
    void grantRemovedOrAddressExcluded_openSessionStops() {
        try (RelayHarness relay = RelayHarness.builder(dir).passthrough().start()) {
            CreatedKey a = relay.createKey("grant");
            try (RawSmtpClient c = relay.authenticated(a.secret())) {
                relay.runtime().keyService().update(a.key().id(),
                        KeyUpdate.none().withGrants(EnumSet.of(Grant.API_KEYS_VIEW)), Actor.CLI);
                c.command("MAIL FROM:<a@example.com>").assertCode(421);
            }
            CreatedKey b = relay.createKey("ip");
            try (RawSmtpClient c = relay.authenticated(b.secret())) {
                relay.runtime().keyService().update(b.key().id(),
                        KeyUpdate.none().withValidIps(IpAllowlist.parseText("127.0.0.9")), Actor.CLI);
                c.command("MAIL FROM:<a@example.com>").assertCode(421);
            }
            CreatedKey unchanged = relay.createKey("unchanged");
            try (RawSmtpClient c = relay.authenticated(unchanged.secret())) {
                relay.runtime().keyService().update(unchanged.key().id(), KeyUpdate.none().withLabel("renamed"),
                        Actor.CLI);
                c.send("a@example.com", List.of("x@dest.test"), MSG).assertCode(250);
            }
        }
    }
}
