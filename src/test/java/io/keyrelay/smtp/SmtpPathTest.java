package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SmtpPathTest {

    @Test
    void parsesPathAndParameters() {
        SmtpPath p = SmtpPath.parse("FROM:<a@example.com> SIZE=100 BODY=8BITMIME", "FROM:");
        assertThat(p.address()).isEqualTo("a@example.com");
        assertThat(p.params()).containsExactly("SIZE=100", "BODY=8BITMIME");
        assertThat(SmtpPath.parse("from: <a@b.c>", "FROM:").address()).isEqualTo("a@b.c");
        assertThat(SmtpPath.parse("FROM:<>", "FROM:").isNullPath()).isTrue();
        assertThat(SmtpPath.parse("TO:<@relay.example,@b.example:user@c.example>", "TO:").address())
                .isEqualTo("user@c.example");
        assertThat(SmtpPath.parse("TO:bare@example.com", "TO:").address()).isEqualTo("bare@example.com");
        assertThat(SmtpPath.parse("TO:<postmaster>", "TO:").isMailbox()).isTrue();
        assertThat(SmtpPath.parse("TO:<jürgen@exämple.com>", "TO:").isAscii()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "FROM", "TO:<a@b.c>", "FROM:<a@b.c", "FROM:<a b@c.d>", "FROM:<a@b.c>X",
        "FROM:<a\u0000@b.c>", "FROM:<@nocolon>"})
    void rejectsMalformed(String arg) {
        assertThat(SmtpPath.parse(arg, "FROM:")).isNull();
    }

    @Test
    void rejectsOverlongPaths() {
        assertThat(SmtpPath.parse("FROM:<" + "a".repeat(260) + "@b.cd>", "FROM:")).isNull();
    }

    @Test
    void receivedHeader_date_isReusedWithinItsSecond_only() {
        java.time.ZonedDateTime t = java.time.ZonedDateTime.parse("2026-11-30T01:02:03.100Z");
        assertThat(ReceivedHeader.date(t)).isEqualTo("Mon, 30 Nov 2026 01:02:03 +0000");
        assertThat(ReceivedHeader.date(t.plusNanos(800_000_000))).isEqualTo("Mon, 30 Nov 2026 01:02:03 +0000");
        assertThat(ReceivedHeader.date(t.plusSeconds(1))).isEqualTo("Mon, 30 Nov 2026 01:02:04 +0000");
        assertThat(ReceivedHeader.date(t.plusSeconds(1).withZoneSameInstant(java.time.ZoneOffset.ofHours(2))))
                .isEqualTo("Mon, 30 Nov 2026 03:02:04 +0200");
        assertThat(ReceivedHeader.date(t.minusDays(1))).isEqualTo("Sun, 29 Nov 2026 01:02:03 +0000");
    }

    @Test
    void receivedHeader_cleansTheHelo_andWritesAddressLiterals() throws Exception {
        assertThat(ReceivedHeader.clean("evil\r\nX-Injected: 1 (x);")).doesNotContain("\r", "\n", "(", ";");
        assertThat(ReceivedHeader.literal(java.net.InetAddress.getByName("::1"))).isEqualTo("[IPv6:::1]");
        assertThat(ReceivedHeader.literal(java.net.InetAddress.getByName("127.0.0.2"))).isEqualTo("[127.0.0.2]");
        String h = new String(ReceivedHeader.build("client", java.net.InetAddress.getByName("127.0.0.2"), "relay.test",
                "relay-b", "TLSv1.3:TLS_AES_128_GCM_SHA256", "ID1", "a@b.c",
                java.time.ZonedDateTime.parse("2026-11-29T12:00:00Z")), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(h).isEqualTo("Received: from client ([127.0.0.2])\r\n"
                + "\tby relay.test (keyrelay relay-b) with ESMTPSA (TLSv1.3:TLS_AES_128_GCM_SHA256) id ID1\r\n"
                + "\tfor <a@b.c>; Sun, 29 Nov 2026 12:00:00 +0000\r\n");
    }
}
