package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The PROXY v1 header read strictly: IPv4-mapped sources normalised, no DNS, nothing malformed let through. */
class ProxyV1HeaderTest {
    private static ProxyV1Header.Result read(String header) throws Exception {
        return ProxyV1Header.read(new ByteArrayInputStream(header.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void tcp6WithAnIpv4MappedSource_isTheIpv4Client() throws Exception {
        ProxyV1Header.Result r = read("PROXY TCP6 ::ffff:127.0.0.2 ::ffff:127.0.0.1 40000 587\r\n");
        assertThat(r.problem()).isNull();
        assertThat(r.client().getAddress().getHostAddress()).isEqualTo("127.0.0.2");
        assertThat(r.client().getPort()).isEqualTo(40000);
    }

    @Test
    void tcp4AndTcp6AndUnknown_areRead() throws Exception {
        assertThat(read("PROXY TCP4 192.0.2.7 10.0.0.1 1234 587\r\n").client().getAddress().getHostAddress())
                .isEqualTo("192.0.2.7");
        assertThat(read("PROXY TCP6 2001:db8::7 2001:db8::1 1234 587\r\n").client().getAddress().getHostAddress())
                .isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(read("PROXY UNKNOWN whatever follows\r\n").unknown()).isTrue();
    }

    @Test
    void malformedHeaders_areRefused_withoutAnyNameLookup() throws Exception {
        for (String bad : new String[] {
            "PROXY TCP4 deadbeef 10.0.0.1 1 2\r\n", // a word InetAddress.getByName would look up
            "PROXY TCP4 ::1 ::1 1 2\r\n", // family mismatch
            "PROXY TCP6 192.0.2.1 10.0.0.1 1 2\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 70000 2\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 +1 2\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 \u0663 2\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 1\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 1 2\n",
            "PROXY TCP5 192.0.2.1 10.0.0.1 1 2\r\n",
            "PROXY TCP4 192.0.2.1 10.0.0.1 1 2", // no CRLF: the connection closed
            "PROXY TCP4 " + "1".repeat(120) + "\r\n"}) {
            assertThat(read(bad).problem()).as(bad).isNotNull();
        }
    }
}
