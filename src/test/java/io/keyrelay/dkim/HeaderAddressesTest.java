package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeaderAddressesTest {

    private static HeaderBlock headers(String message) throws IOException {
        return HeaderBlock.read(new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)),
                HeaderBlock.DEFAULT_MAX_BYTES);
    }

    private static Authors read(String message, boolean smtpUtf8) throws IOException {
        return HeaderAddresses.read(headers(message), smtpUtf8);
    }

    private static List<String> fromAddresses(Authors a) {
        assertThat(a).isInstanceOf(Authors.Found.class);
        return ((Authors.Found) a).from().stream().map(Mailbox::address).toList();
    }

    private static Authors.Unreadable unreadable(Authors a) {
        assertThat(a).isInstanceOf(Authors.Unreadable.class);
        return (Authors.Unreadable) a;
    }

    @Test
    void plainFrom_withDisplayName() throws IOException {
        Authors a = read("From: Alice <alice@Example.COM>\r\nTo: b@x.org\r\n\r\nbody\r\n", false);
        assertThat(fromAddresses(a)).containsExactly("alice@example.com");
        assertThat(((Authors.Found) a).sender()).isNull();
    }

    @Test
    void foldedFrom_isUnfolded() throws IOException {
        Authors a = read("Subject: x\r\nFrom: \"A very long display name\"\r\n\t<folded@example.com>,\r\n"
                + "  second@example.org\r\n\r\n", false);
        assertThat(fromAddresses(a)).containsExactly("folded@example.com", "second@example.org");
    }

    @Test
    void group_isExpanded_andEmptyGroupIsNoAddress() throws IOException {
        assertThat(fromAddresses(read("From: Team: a@x.org, \"B\" <b@y.org>;\r\n\r\n", false)))
                .containsExactly("a@x.org", "b@y.org");
        Authors.Unreadable u = unreadable(read("From: undisclosed-recipients:;\r\n\r\n", false));
        assertThat(u.noParseableFrom()).isTrue();
        assertThat(u.reason()).contains("names no address");
    }

    @Test
    void comments_areIgnored() throws IOException {
        assertThat(fromAddresses(read("From: a@example.com (the billing robot)\r\n\r\n", false)))
                .containsExactly("a@example.com");
        assertThat(fromAddresses(read("From: (c1) Name (c2) <n@example.com> (c3)\r\n\r\n", false)))
                .containsExactly("n@example.com");
    }

    @Test
    void encodedWordDisplayName_isParsed() throws IOException {
        assertThat(fromAddresses(read("From: =?UTF-8?B?w6lsw6g=?= <e@example.com>\r\n\r\n", false)))
                .containsExactly("e@example.com");
    }

    @Test
    void utf8Address_underSmtpUtf8_isReadWithALabelDomain() throws IOException {
        Authors a = read("From: Jörg <jörg@Bücher.de>\r\n\r\n", true);
        assertThat(fromAddresses(a)).containsExactly("jörg@xn--bcher-kva.de");
    }

    @Test
    void utf8Address_withoutSmtpUtf8_isUnreadable() throws IOException {
        assertThat(unreadable(read("From: <jörg@bücher.de>\r\n\r\n", false)).reason()).contains("SMTPUTF8");
    }

    @Test
    void utf8DisplayName_withoutSmtpUtf8_isFine() throws IOException {
        assertThat(fromAddresses(read("From: Jörg <joerg@example.com>\r\n\r\n", false)))
                .containsExactly("joerg@example.com");
    }

    @Test
    void idnDomain_ALabelAndULabel_areTheSame() throws IOException {
        Authors u = read("From: x@münchen.de\r\n\r\n", true);
        Authors a = read("From: x@XN--MNCHEN-3YA.de\r\n\r\n", false);
        assertThat(fromAddresses(u)).isEqualTo(fromAddresses(a)).containsExactly("x@xn--mnchen-3ya.de");
    }

    @Test
    void sender_isRead_andItsDomainsCount() throws IOException {
        Authors a = read("From: a@one.example, b@two.example\r\nSender: s@Three.example\r\n\r\n", false);
        Authors.Found f = (Authors.Found) a;
        assertThat(f.sender().address()).isEqualTo("s@three.example");
        assertThat(f.domains()).containsExactly("one.example", "two.example", "three.example");
    }

    @Test
    void badSender_isUnreadableSender_notFrom() throws IOException {
        Authors.Unreadable u = unreadable(read("From: a@x.org\r\nSender: a@x.org, b@y.org\r\n\r\n", false));
        assertThat(u.field()).isEqualTo("Sender");
        assertThat(u.noParseableFrom()).isFalse();
    }

    @Test
    void missingFrom_isNoParseableFrom() throws IOException {
        Authors.Unreadable u = unreadable(read("To: a@x.org\r\nSubject: hi\r\n\r\nFrom: a@x.org\r\n", false));
        assertThat(u.noParseableFrom()).isTrue();
        assertThat(u.reason()).contains("no From:");
    }

    @Test
    void garbageFrom_isNoParseableFrom() throws IOException {
        assertThat(unreadable(read("From: bad@@x\r\n\r\n", false)).noParseableFrom()).isTrue();
        assertThat(unreadable(read("From: just a name\r\n\r\n", false)).noParseableFrom()).isTrue();
        assertThat(unreadable(read("From: a@[192.0.2.1]\r\n\r\n", false)).reason()).contains("literal");
        assertThat(unreadable(read("From:\r\n\r\n", false)).noParseableFrom()).isTrue();
    }

    @Test
    void reasons_quoteNoMessageText_andAreAscii() throws IOException {
        for (String from : List.of("bad@@x", "just a name", "jörg@bücher.de", "x@exa_mple..com", "<@r:x@", "a@-ü-.de")) {
            Authors.Unreadable u = unreadable(read("From: " + from + "\r\n\r\n", from.startsWith("a@")));
            assertThat(u.reason()).as(from).doesNotContain(from).matches("\\p{ASCII}*");
        }
    }

    @Test
    void twoFromFields_areRefused() throws IOException {
        assertThat(unreadable(read("From: a@x.org\r\nFrom: b@y.org\r\n\r\n", false)).reason())
                .contains("more than one");
    }

    @Test
    void bareLfLines_andObsoleteSpaceBeforeColon() throws IOException {
        assertThat(fromAddresses(read("Subject: x\nFROM : <lf@example.com>\n\nbody\n", false)))
                .containsExactly("lf@example.com");
    }

    @Test
    void sourceRoute_isDropped() throws IOException {
        assertThat(fromAddresses(read("From: <@relay.example:r@example.com>\r\n\r\n", false)))
                .containsExactly("r@example.com");
    }

    @Test
    void read_stopsAtTheBlankLine_leavingTheBody() throws IOException {
        InputStream in = new ByteArrayInputStream("From: a@x.org\r\nX: 1\r\n\r\nbody line\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        HeaderBlock h = HeaderBlock.read(in, 1000);
        assertThat(h.fields()).extracting(HeaderField::name).containsExactly("From", "X");
        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("body line\r\n");
        assertThat(new String(h.fields().get(1).raw(), StandardCharsets.US_ASCII)).isEqualTo("X: 1\r\n");
    }

    @Test
    void oversizedHeaderBlock_isTruncated_andUnreadable() throws IOException {
        String big = "From: a@x.org\r\nX-Pad: " + "p".repeat(5000) + "\r\nFrom: b@evil.example\r\n\r\n";
        HeaderBlock h = HeaderBlock.read(new ByteArrayInputStream(big.getBytes(StandardCharsets.US_ASCII)), 1024);
        assertThat(h.truncated()).isTrue();
        assertThat(unreadable(HeaderAddresses.read(h, false)).reason()).contains("too large");
    }
}
