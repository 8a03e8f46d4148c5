package io.keyrelay.admin;

import io.javalin.http.Context;
import io.keyrelay.net.IpLiteral;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The address of the peer that sent an admin request, as an {@link InetAddress} built from the socket's literal
 * address (never a DNS lookup). Forwarded-for headers are not trusted: put no proxy in front of the admin port,
 * or accept that keys' allowlists then see the proxy's address.
 */
final class ClientAddress {
    private ClientAddress() {}

    static InetAddress of(Context ctx) {
        String text = ctx.req().getRemoteAddr();
        if (text.startsWith("[") && text.endsWith("]")) {
            text = text.substring(1, text.length() - 1);
        }
        int zone = text.indexOf('%');
        if (zone >= 0) {
            text = text.substring(0, zone);
        }
        try {
            return InetAddress.getByAddress(IpLiteral.parse(text));
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalStateException("the server reported an unparseable peer address: " + text, e);
        }
    }
}
