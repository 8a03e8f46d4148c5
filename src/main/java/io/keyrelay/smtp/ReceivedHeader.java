package io.keyrelay.smtp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * keyrelay's own {@code Received:} trace header (RFC 5321 section 4.4), the one thing it adds to a message.
 *
 * <p>Written here rather than by SubEthaSMTP because the library's does a reverse DNS lookup for every message.
 * The protocol is {@code ESMTPSA} or {@code ESMTPA} (RFC 3848: authenticated, with or without TLS); the TLS
 * protocol and cipher go in a comment, and so does the node ({@code cluster.node_name}): {@code by} names the
 * relay as clients know it, which a cluster's nodes share. No key, no username, no secret: only the session and message ids that the
 * transaction's log line carries too.
 */
final class ReceivedHeader {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ENGLISH);

    /** The last date written, reused within its second: formatting it was ~2% of the relay's CPU per message. */
    private record Stamp(long epochSecond, ZoneOffset offset, String text) {}

    private static volatile Stamp last = new Stamp(Long.MIN_VALUE, ZoneOffset.UTC, "");

    private ReceivedHeader() {}

    static byte[] build(String helo, InetAddress client, String hostname, String node, String tlsInfo, String id,
            String singleRecipient, ZonedDateTime now) {
        StringBuilder b = new StringBuilder(256);
        b.append("Received: from ").append(clean(helo)).append(" (").append(literal(client)).append(")\r\n");
        b.append("\tby ").append(hostname).append(" (keyrelay ").append(node).append(") with ").append(tlsInfo == null ? "ESMTPA" : "ESMTPSA");
        if (tlsInfo != null) {
            b.append(" (").append(tlsInfo).append(')');
        }
        b.append(" id ").append(id).append("\r\n\t");
        if (singleRecipient != null) {
            b.append("for <").append(singleRecipient).append(">; ");
        }
        b.append(date(now)).append("\r\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {@code now} as RFC 5322 writes a date ({@code Mon, 30 Nov 2026 01:02:03 +0000}). */
    static String date(ZonedDateTime now) {
        Stamp s = last;
        long second = now.toEpochSecond();
        if (s.epochSecond() != second || !s.offset().equals(now.getOffset())) {
            s = new Stamp(second, now.getOffset(), DATE.format(now));
            last = s;
        }
        return s.text();
    }

    /** An address literal as RFC 5321 section 4.1.3 writes it: {@code [192.0.2.1]}, {@code [IPv6:2001:db8::1]}. */
    static String literal(InetAddress a) {
        return a instanceof Inet6Address
                ? "[IPv6:" + io.keyrelay.net.IpLiteral.format(a.getAddress()) + "]"
                : "[" + a.getHostAddress() + "]";
    }

    /** The client's EHLO name, reduced to something that cannot break the header: printable ASCII, no parentheses. */
    static String clean(String helo) {
        if (helo == null || helo.isEmpty()) {
            return "unknown";
        }
        StringBuilder b = new StringBuilder(Math.min(helo.length(), 64));
        for (int i = 0; i < helo.length() && b.length() < 64; i++) {
            char c = helo.charAt(i);
            b.append(c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != ';' ? c : '_');
        }
        return b.toString();
    }
}
