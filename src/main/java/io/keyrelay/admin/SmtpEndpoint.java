package io.keyrelay.admin;

import java.util.List;

/**
 * Where applications send mail, as the console's "API key created" page tells the operator: the relay's host name,
 * its submission port (STARTTLS when {@code starttls}), its implicit-TLS port (0: off) and the AUTH usernames.
 */
public record SmtpEndpoint(String host, int port, boolean starttls, int implicitTlsPort, List<String> usernames) {
    public SmtpEndpoint {
        usernames = List.copyOf(usernames);
    }
}
