package io.keyrelay.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Strict parsing of textual IPv4 and IPv6 addresses into their bytes, without ever touching DNS.
 *
 * <p>{@link InetAddress#getByName} is not used on untrusted text: it accepts legacy forms such as {@code 10.1}
 * or {@code 010.0.0.1} and falls back to a name lookup for anything it cannot parse. Here IPv4 must be a
 * dotted quad of decimal octets without leading zeros, and IPv6 must follow RFC 4291 section 2.2 (with an
 * optional dotted-quad tail). Zone ids ({@code fe80::1%eth0}) are refused: they mean nothing in an allowlist.
 */
public final class IpLiteral {
    private IpLiteral() {}

    /**
     * Parses an address literal and returns its bytes: 4 for IPv4, 16 for IPv6, with an IPv4-mapped IPv6
     * address ({@code ::ffff:a.b.c.d}) normalised to its 4 IPv4 bytes.
     *
     * @throws IllegalArgumentException if {@code text} is not an address literal
     */
    public static byte[] parse(String text) {
        byte[] bytes = text.indexOf(':') >= 0 ? parseV6(text) : parseV4(text);
        if (bytes == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address");
        }
        return normalise(bytes);
    }

    /** Returns the address's bytes with an IPv4-mapped IPv6 address reduced to its 4 IPv4 bytes. */
    public static byte[] bytesOf(InetAddress address) {
        return normalise(address.getAddress());
    }

    /** Returns the address as an {@link InetAddress} with IPv4-mapped IPv6 normalised to IPv4. */
    public static InetAddress normalise(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] bytes = address.getAddress();
            if (isV4Mapped(bytes)) {
                return toInetAddress(normalise(bytes));
            }
        }
        return address;
    }

    /**
     * Formats address bytes canonically: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, no leading
     * zeros, the longest run of two or more zero groups shortened to {@code ::}, the first such run on a tie).
     */
    public static String format(byte[] bytes) {
        if (bytes.length == 4) {
            return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    static InetAddress toInetAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes); // no lookup: the address is given as bytes
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static boolean isV4Mapped(byte[] b) {
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    private static byte[] normalise(byte[] b) {
        return isV4Mapped(b) ? Arrays.copyOfRange(b, 12, 16) : b;
    }

    private static byte[] parseV4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = decimalOctet(parts[i]);
            if (v < 0) {
                return null;
            }
            out[i] = (byte) v;
        }
        return out;
    }

    private static int decimalOctet(String p) {
        if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= 255 ? v : -1;
    }

    private static byte[] parseV6(String s) {
        if (s.indexOf('%') >= 0) {
            return null;
        }
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return null; // "::" may appear once
        }
        byte[] out = new byte[16];
        if (gap < 0) {
            return fillGroups(s, out, 0, 16) == 16 ? out : null;
        }
        String head = s.substring(0, gap);
        String tail = s.substring(gap + 2);
        byte[] headBytes = new byte[16];
        byte[] tailBytes = new byte[16];
        int h = head.isEmpty() ? 0 : fillGroups(head, headBytes, 0, 14);
        int t = tail.isEmpty() ? 0 : fillGroups(tail, tailBytes, 0, 14);
        if (h < 0 || t < 0 || h + t > 14) {
            return null; // "::" stands for at least one group
        }
        System.arraycopy(headBytes, 0, out, 0, h);
        System.arraycopy(tailBytes, 0, out, 16 - t, t);
        return out;
    }

    /** Parses colon-separated groups (the last may be a dotted quad) into out; returns bytes written or -1. */
    private static int fillGroups(String s, byte[] out, int offset, int max) {
        String[] groups = s.split(":", -1);
        int pos = offset;
        for (int i = 0; i < groups.length; i++) {
            String g = groups[i];
            if (i == groups.length - 1 && g.indexOf('.') >= 0) {
                byte[] v4 = parseV4(g);
                if (v4 == null || pos + 4 > max) {
                    return -1;
                }
                System.arraycopy(v4, 0, out, pos, 4);
                pos += 4;
                continue;
            }
            if (g.isEmpty() || g.length() > 4 || pos + 2 > max) {
                return -1;
            }
            int v = 0;
            for (int j = 0; j < g.length(); j++) {
                int d = hexDigit(g.charAt(j)); // not Character.digit: it reads fullwidth and other scripts' digits
                if (d < 0) {
                    return -1;
                }
                v = (v << 4) | d;
            }
            out[pos++] = (byte) (v >>> 8);
            out[pos++] = (byte) v;
        }
        return pos - offset;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    /** True for 127.0.0.0/8 and ::1 (after IPv4-mapped normalisation). */
    public static boolean isLoopback(InetAddress address) {
        InetAddress a = normalise(address);
        return a instanceof Inet4Address ? (a.getAddress()[0] == 127) : a.isLoopbackAddress();
    }
}
