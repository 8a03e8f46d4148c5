package io.keyrelay.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Keeps the load generator on this machine unless asked otherwise: the target must resolve to loopback addresses
 * only (127.0.0.0/8, ::1). A load test aimed elsewhere by a typo would be an attack on someone else's server.
 */
final class TargetGuard {
    private TargetGuard() {}

    /** The address to connect to; throws {@link IllegalArgumentException} naming the option when it is refused. */
    static InetSocketAddress resolve(String host, int port, boolean allowRemote) {
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--host: cannot resolve " + host);
        }
        for (InetAddress a : all) {
            if (!a.isLoopbackAddress() && !allowRemote) {
                throw new IllegalArgumentException("--host: " + host + " is " + a.getHostAddress()
                        + ", not a loopback address; keyrelay bench loads only this machine unless --allow-remote is given");
            }
        }
        return new InetSocketAddress(all[0], port);
    }
}
