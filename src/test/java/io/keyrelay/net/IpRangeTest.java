package io.keyrelay.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpRangeTest {

    private static InetAddress addr(String s) throws Exception {
        return InetAddress.getByAddress(IpLiteral.parse(s));
    }

    @ParameterizedTest
    @CsvSource({
        "203.0.113.0/24, 203.0.113.0, true",
        "203.0.113.0/24, 203.0.113.255, true",
        "203.0.113.0/24, 203.0.114.0, false",
        "203.0.113.7, 203.0.113.7, true",
        "203.0.113.7/32, 203.0.113.8, false",
        "0.0.0.0/0, 198.51.100.1, true",
        "0.0.0.0/0, 2001:db8::1, false",
        "10.0.0.0/9, 10.127.255.255, true",
        "10.0.0.0/9, 10.128.0.0, false",
        "2001:db8::/32, 2001:db8:ffff::1, true",
        "2001:db8::/32, 2001:db9::1, false",
        "::/0, 2001:db8::1, true",
        "::/0, 192.0.2.1, false",
        "::1/128, ::1, true",
        "::1, ::2, false",
        "2001:db8::/127, 2001:db8::1, true",
        "2001:db8::/127, 2001:db8::2, false",
        "127.0.0.0/8, ::ffff:127.0.0.2, true",
        "::ffff:10.0.0.0/104, 10.9.9.9, true",
        "::ffff:10.0.0.0/104, 11.0.0.1, false",
    })
    void contains_matchesPrefixBoundaries(String range, String address, boolean expected) throws Exception {
        assertThat(IpRange.parse(range).contains(addr(address))).isEqualTo(expected);
    }

    @Test
    void contains_ipv4MappedClientAddress_isNormalisedToIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 10;
        mapped[15] = 7;
        // Built as raw bytes: the JDK would otherwise already hand back an Inet4Address.
        InetAddress a = java.net.Inet6Address.getByAddress(null, mapped, -1);
        assertThat(IpRange.parse("10.0.0.0/8").contains(a)).isTrue();
        assertThat(IpRange.parse("10.0.0.0/8").contains(a)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "203.0.113.0/24, 203.0.113.0/24",
        "2001:DB8:0:0:0:0:0:0/32, 2001:db8::/32",
        "::ffff:192.0.2.1, 192.0.2.1",
        "::ffff:10.0.0.0/104, 10.0.0.0/8",
        "0:0:0:0:0:0:0:1, ::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "::, ::",
        "1::, 1::",
        "fe80::1:2:3:4, fe80::1:2:3:4",
    })
    void toString_isCanonical(String in, String canonical) {
        assertThat(IpRange.parse(in).toString()).isEqualTo(canonical);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/", "1.2.3.4/08",
        "2001:db8::/129", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "example.com", "10.0.0.1/8",
        "2001:db8::1/32", "::ffff:10.0.0.0/90", "1:2:3:4:5:6:7::8"})
    void parse_rejectsInvalidEntries_namingThem(String bad) {
        assertThatThrownBy(() -> IpRange.parse(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(bad.isEmpty() ? "empty" : "'" + bad + "'");
    }

    @Test
    void parse_hostBitsSet_suggestsTheNetwork() {
        assertThatThrownBy(() -> IpRange.parse("192.168.1.77/24")).hasMessageContaining("192.168.1.0/24");
    }

    @Test
    void allowlist_emptyAllowsAny_elseOnlyListed() throws Exception {
        assertThat(IpAllowlist.ANY.allows(addr("198.51.100.1"))).isTrue();
        IpAllowlist list = IpAllowlist.parseText("127.0.0.2, 2001:db8::/32\n10.0.0.0/8");
        assertThat(list.allows(addr("127.0.0.2"))).isTrue();
        assertThat(list.allows(addr("127.0.0.3"))).isFalse();
        assertThat(list.allows(addr("2001:db8::5"))).isTrue();
        assertThat(list.allows(addr("::1"))).isFalse();
        assertThat(list.asStrings()).containsExactly("127.0.0.2", "2001:db8::/32", "10.0.0.0/8");
    }

    @Test
    void allowlist_dropsDuplicatesAfterCanonicalisation() {
        assertThat(IpAllowlist.parse(List.of("::1", "0:0:0:0:0:0:0:1", "::ffff:1.2.3.4", "1.2.3.4")).asStrings())
                .containsExactly("::1", "1.2.3.4");
    }

    @Test
    void isLoopback_coversWhole127Block_andV6Loopback() throws Exception {
        assertThat(IpLiteral.isLoopback(addr("127.0.0.3"))).isTrue();
        assertThat(IpLiteral.isLoopback(addr("::1"))).isTrue();
        assertThat(IpLiteral.isLoopback(addr("::ffff:127.1.2.3"))).isTrue();
        assertThat(IpLiteral.isLoopback(addr("10.0.0.1"))).isFalse();
    }
}
