package io.keyrelay.net;

import java.net.InetAddress;

/**
 * The unit that per-address limits count by: an IPv4 address on its own, an IPv6 address by its /64 — one
 * customer's subnet (RFC 6177), which a single host can hop around in at will.
 */
public final class AddressBucket {
    private AddressBucket() {}

    /** The bucket of {@code address} as text, e.g. {@code 203.0.113.7} or {@code 2001:db8:1:2::/64}. */
    public static String of(InetAddress address) {
        byte[] b = IpLiteral.bytesOf(address);
        if (b.length == 4) {
            return IpLiteral.format(b);
        }
        byte[] prefix = new byte[16];
        System.arraycopy(b, 0, prefix, 0, 8);
        return IpLiteral.format(prefix) + "/64";
    }
}
