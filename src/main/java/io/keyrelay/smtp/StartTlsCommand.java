package io.keyrelay.smtp;

import io.keyrelay.text.Ascii;
import io.keyrelay.text.LogText;
import java.io.IOException;
import java.io.InputStream;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;

/**
 * STARTTLS (RFC 3207).
 *
 * <p>Replaces SubEthaSMTP's for three reasons. Bytes a client sends after STARTTLS but before TLS begins are the
 * command-injection attack of CVE-2011-0411 (a man in the middle appends plaintext commands that would run inside
 * the encrypted session): they are counted, logged and discarded before the {@code 220}, and anything injected
 * later breaks the handshake. A failed handshake closes the connection, where the library carried on in plain
 * text over a socket in an unknown state. And STARTTLS after AUTH is refused, because the library cannot forget an
 * authentication, as section 4.2 requires of everything learned before TLS.
 */
final class StartTlsCommand extends Commands.Base {
    private static final Logger log = LoggerFactory.getLogger(StartTlsCommand.class);

    private final SmtpContext ctx;

    StartTlsCommand(SmtpContext ctx) {
        super("STARTTLS", "Starts TLS.", "");
        this.ctx = ctx;
    }

    @Override
    public void execute(String line, Session s) throws IOException {
        if (!Ascii.equalsIgnoreCase(Ascii.trim(line), "STARTTLS")) {
            reply(s, SmtpReply.TLS_SYNTAX);
            return;
        }
        if (s.isTLSStarted()) {
            reply(s, SmtpReply.TLS_ACTIVE);
            return;
        }
        if (!ctx.config().tls().enabled()) {
            reply(s, SmtpReply.TLS_UNAVAILABLE);
            return;
        }
        if (s.isAuthenticated()) {
            reply(s, SmtpReply.TLS_AFTER_AUTH);
            return;
        }
        // Nothing may follow STARTTLS before the client has seen our 220: whatever is there now was injected.
        InputStream in = s.getRawInput();
        int pipelined = in.available();
        if (pipelined > 0) {
            in.skipNBytes(pipelined);
            log.warn("discarded {} bytes sent after STARTTLS before TLS began (command injection) client={}",
                    pipelined, SmtpContext.clientAddress(s).getHostAddress());
        }
        reply(s, SmtpReply.TLS_READY);
        SSLSocket tls;
        try {
            tls = s.getServer().createSSLSocket(GuardedSocket.transport(s)); // below the guard: raw TLS records
            tls.startHandshake();
        } catch (IOException e) {
            log.info("STARTTLS handshake failed, closing: {} client={}", LogText.quote(e.getMessage()),
                    SmtpContext.clientAddress(s).getHostAddress());
            s.quit();
            return;
        }
        s.setSocket(new GuardedSocket(tls, SessionBudget.of(s), false));
        s.resetSmtpProtocol(); // RFC 3207 section 4.2: forget the EHLO and any transaction from before TLS
        s.setTlsStarted(true);
    }
}
