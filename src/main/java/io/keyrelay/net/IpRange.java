package io.keyrelay.net;

import io.keyrelay.text.Ascii;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * A block of IPv4 or IPv6 addresses: one address, or a network in CIDR notation ({@code 203.0.113.0/24},
 * {@code 2001:db8::/32}).
 *
 * <p>IPv4-mapped IPv6 forms are normalised to IPv4, so {@code ::ffff:10.0.0.0/104} is {@code 10.0.0.0/8} and a
 * client seen as {@code ::ffff:10.0.0.7} on a dual-stack socket matches it. Host bits set below the prefix are
 * an error ({@code 10.0.0.1/8}), since they usually mean a typo in an allowlist.
 */
public final class IpRange {
    private final byte[] network;
    private final int prefix;

    private IpRange(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * Parses an address or CIDR block.
     *
     * @throws IllegalArgumentException with a message naming the bad entry
     */
    public static IpRange parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty IP address");
        }
        int slash = s.indexOf('/');
        String addressPart = slash < 0 ? s : s.substring(0, slash);
        byte[] raw;
        try {
            raw = parseRaw(addressPart);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not an IP address or CIDR block");
        }
        int bits = raw.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            long n = Ascii.parseDigits(p, 3); // 0-9 only: Character.isDigit would take other scripts' digits
            if (n < 0 || (p.length() > 1 && p.charAt(0) == '0')) {
                throw new IllegalArgumentException("'" + s + "' has an invalid prefix length");
            }
            prefix = (int) n;
            if (prefix > bits) {
                throw new IllegalArgumentException("'" + s + "' has a prefix longer than " + bits + " bits");
            }
        }
        if (raw.length == 16 && IpLiteral.isV4Mapped(raw)) {
            if (prefix < 96) {
                throw new IllegalArgumentException("'" + s + "' is an IPv4-mapped block shorter than /96");
            }
            raw = Arrays.copyOfRange(raw, 12, 16);
            prefix -= 96;
        }
        if (!hostBitsClear(raw, prefix)) {
            throw new IllegalArgumentException("'" + s + "' has host bits set; did you mean "
                    + IpLiteral.format(mask(raw, prefix)) + "/" + prefix + "?");
        }
        return new IpRange(raw, prefix);
    }

    /** The bytes of the address part, without mapped-address normalisation (done by the caller with the prefix). */
    private static byte[] parseRaw(String s) {
        byte[] b = IpLiteral.parse(s);
        if (b.length == 4 && s.indexOf(':') >= 0) {
            // IpLiteral normalised a mapped address: give back the 16-byte form so the prefix can be adjusted.
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(b, 0, mapped, 12, 4);
            return mapped;
        }
        return b;
    }

    /** True if the address lies inside this block. IPv4-mapped IPv6 addresses are treated as IPv4. */
    public boolean contains(InetAddress address) {
        return contains(IpLiteral.bytesOf(address));
    }

    boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        int full = prefix >>> 3;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix & 7;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (address[full] & m) == (network[full] & m);
    }

    /** True if every address of {@code other} lies inside this block (CIDR containment; families never mix). */
    public boolean contains(IpRange other) {
        return other.network.length == network.length && other.prefix >= prefix && contains(other.network);
    }

    public boolean isIpv6() {
        return network.length == 16;
    }

    public int prefixLength() {
        return prefix;
    }

    private static boolean hostBitsClear(byte[] a, int prefix) {
        return Arrays.equals(a, mask(a, prefix));
    }

    private static byte[] mask(byte[] a, int prefix) {
        byte[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            int bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] = (byte) (m[i] & ((0xff << (8 - bitsHere)) & 0xff));
        }
        return m;
    }

    /** The canonical text: the address alone for a single host, else {@code network/prefix}. */
    @Override
    public String toString() {
        String a = IpLiteral.format(network);
        return prefix == network.length * 8 ? a : a + "/" + prefix;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpRange r && r.prefix == prefix && Arrays.equals(r.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }
}
