package io.keyrelay.smtp;

import io.keyrelay.net.IpLiteral;
import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * The PROXY protocol's v1 header, {@code PROXY TCP4|TCP6|UNKNOWN src dst sport dport CRLF} (HAProxy's
 * proxy-protocol.txt, section 2.1), read strictly and without DNS.
 *
 * <p>SubEthaSMTP's own parser refuses {@code TCP6 ::ffff:192.0.2.1 …}, which is what HAProxy sends for an IPv4
 * client on a dual-stack listener ({@code InetAddress.getByName} returns that as an {@code Inet4Address}, and the
 * library insists on IPv6), and hands the address text to {@code getByName}, which would look up a bare word such
 * as {@code deadbeef} in the DNS. Here addresses go through {@link IpLiteral}: an IPv4-mapped one is normalised to
 * IPv4, anything that is not a literal of the announced family is refused.
 */
final class ProxyV1Header {
    /** The longest v1 header, CRLF included (section 2.1). */
    static final int MAX_LENGTH = 107;

    /** What the header said: a client address, or UNKNOWN (use the connection's own), or that it is invalid. */
    record Result(InetSocketAddress client, boolean unknown, String problem) {
        static Result invalid(String problem) {
            return new Result(null, false, problem);
        }
    }

    private ProxyV1Header() {}

    /** Reads one header from {@code in} (at most {@link #MAX_LENGTH} bytes, up to and including its CRLF). */
    static Result read(InputStream in) throws IOException {
        byte[] line = new byte[MAX_LENGTH];
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return Result.invalid("the connection closed inside the PROXY header");
            }
            if (n == MAX_LENGTH) {
                return Result.invalid("no CRLF within " + MAX_LENGTH + " bytes");
            }
            line[n++] = (byte) b;
            if (b == '\n') {
                break;
            }
        }
        if (n < 2 || line[n - 2] != '\r') {
            return Result.invalid("a bare LF in the PROXY header");
        }
        for (int i = 0; i < n - 2; i++) {
            if (line[i] < 0x20 || line[i] > 0x7e) {
                return Result.invalid("a byte that is not printable ASCII in the PROXY header");
            }
        }
        return parse(new String(line, 0, n - 2, StandardCharsets.US_ASCII));
    }

    /** Parses a header line without its CRLF. */
    static Result parse(String text) {
        String[] f = text.split(" ", -1);
        if (f.length < 2 || !f[0].equals("PROXY")) {
            return Result.invalid("not a PROXY v1 header");
        }
        if (f[1].equals("UNKNOWN")) {
            return new Result(null, true, null); // anything may follow; the connection's own address stands
        }
        boolean v4 = f[1].equals("TCP4");
        if (!v4 && !f[1].equals("TCP6")) {
            return Result.invalid("unknown protocol '" + f[1] + "'");
        }
        if (f.length != 6) {
            return Result.invalid("expected PROXY " + f[1] + " src dst sport dport");
        }
        byte[] src;
        byte[] dst;
        try {
            src = literal(f[2], v4);
            dst = literal(f[3], v4);
        } catch (IllegalArgumentException e) {
            return Result.invalid(e.getMessage());
        }
        int sport = port(f[4]);
        int dport = port(f[5]);
        if (sport < 0 || dport < 0 || dst.length != src.length) {
            return Result.invalid("bad port");
        }
        try {
            return new Result(new InetSocketAddress(InetAddress.getByAddress(src), sport), false, null);
        } catch (UnknownHostException e) {
            return Result.invalid("bad source address"); // not for 4 or 16 bytes: getByAddress does no lookup
        }
    }

    /**
     * The address's bytes, IPv4-mapped IPv6 normalised to IPv4: TCP4 takes a dotted quad only, TCP6 an IPv6
     * literal (which may be IPv4-mapped).
     */
    private static byte[] literal(String text, boolean v4) {
        boolean looksV6 = text.indexOf(':') >= 0;
        if (v4 == looksV6) {
            throw new IllegalArgumentException("'" + text + "' is not an " + (v4 ? "IPv4" : "IPv6") + " address");
        }
        return IpLiteral.parse(text); // strict, never DNS; ::ffff:a.b.c.d comes back as 4 bytes
    }

    private static int port(String text) {
        long p = Ascii.parseDigits(text, 5);
        return p >= 0 && p <= 65535 && (text.length() == 1 || text.charAt(0) != '0') ? (int) p : -1;
    }
}
