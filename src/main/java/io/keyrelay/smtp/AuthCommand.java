package io.keyrelay.smtp;

import io.keyrelay.config.Durations;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.AuthDecision;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.limits.KeySessions;
import io.keyrelay.net.AddressBucket;
import io.keyrelay.text.Ascii;
import io.keyrelay.text.LogText;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.AuthenticationHandler;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.server.Session;

/**
 * AUTH PLAIN and AUTH LOGIN (RFC 4954, 4616) with an API key as the password.
 *
 * <p>Refused on an unencrypted session unless {@code smtp.auth.plaintext} allows it (538), during a mail transaction
 * or a second time (503). The username must be one of {@code smtp.auth.usernames}, optionally with SparkPost's
 * {@code :X-MSYS-SUBACCOUNT=N} suffix. Every refusal of the credentials is the same 535, whatever the reason; the
 * reason goes to the log (with the key's id and short key when the key exists) and to the metrics. The secret and
 * the AUTH payload are never logged.
 *
 * <p>Each refusal is answered after the {@link AuthThrottle}'s delay, and a wrong secret is counted by it (a valid key
 * refused for its address, grant, username or subaccount is not); the refusal that is one too many, and any AUTH
 * from an address that is refused already, gets {@code 421 4.7.0} and the connection closes.
 */
final class AuthCommand extends Commands.Base {
    private static final Logger log = LoggerFactory.getLogger(AuthCommand.class);
    private static final String SUBACCOUNT_SUFFIX = ":X-MSYS-SUBACCOUNT=";
    /**
     * Longest AUTH response accepted, in base64 characters: a 40-character key with the longest username
     * (SMTP_Injection:X-MSYS-SUBACCOUNT=N) needs about 120. Longer is answered 500 5.5.6 and the session goes on;
     * a line of 998 characters or more is cut off earlier by SubEthaSMTP's line reader, which closes the
     * connection (RFC 4954 asks for 12288 octets, which only mechanisms other than PLAIN and LOGIN need).
     */
    private static final int MAX_RESPONSE = 512;
    private static final Pattern SPACES = Pattern.compile(" +");

    private final SmtpContext ctx;
    private final KeySessions keySessions;

    AuthCommand(SmtpContext ctx, KeySessions keySessions) {
        super("AUTH", "Authenticate with an API key.", "PLAIN|LOGIN [initial-response]");
        this.ctx = ctx;
        this.keySessions = keySessions;
    }

    @Override
    public void execute(String line, Session s) throws IOException, DropConnectionException {
        if (ctx.throttle().isBanned(SmtpContext.clientAddress(s))) {
            ctx.metrics().authThrottled();
            throw SmtpReply.AUTH_THROTTLED.drop();
        }
        if (s.isAuthenticated()) {
            s.sendResponse("503 5.5.1 Already authenticated");
            return;
        }
        if (s.isMailTransactionInProgress()) {
            s.sendResponse("503 5.5.1 AUTH is not permitted during a mail transaction");
            return;
        }
        String[] args = SPACES.split(Ascii.trim(line));
        if (args.length < 2 || args.length > 3) {
            s.sendResponse("501 5.5.4 Syntax: AUTH PLAIN|LOGIN [initial-response]");
            return;
        }
        String mechanism = Ascii.toUpperCase(args[1]);
        if (!mechanism.equals("PLAIN") && !mechanism.equals("LOGIN")) {
            s.sendResponse("504 5.5.4 Unrecognized authentication type; use PLAIN or LOGIN");
            return;
        }
        if (!ctx.authAllowed(s)) {
            ctx.metrics().authEncryptionRequired();
            reply(s, SmtpReply.AUTH_ENCRYPTION_REQUIRED);
            return;
        }
        String initial = args.length == 3 ? args[2] : null;
        Credentials c = mechanism.equals("PLAIN") ? plain(s, initial) : login(s, initial);
        if (c == null) {
            return; // the exchange ended with a reply already sent
        }
        decide(s, c);
    }

    /** {@code authzid} is PLAIN's authorization identity: null when absent (empty) and for LOGIN. */
    private record Credentials(String authzid, String username, String secret) {
        @Override
        public String toString() {
            return "Credentials[" + authzid + ", " + username + ", ****]";
        }
    }

    private Credentials plain(Session s, String initial) throws IOException, DropConnectionException {
        String response = initial;
        if (response == null) {
            s.sendResponse("334 ");
            response = readResponse(s);
            if (response == null) {
                return null;
            }
        }
        byte[] decoded = decode(s, response);
        if (decoded == null) {
            return null;
        }
        int first = indexOf(decoded, 0);
        int second = first < 0 ? -1 : indexOf(decoded, first + 1);
        if (first < 0 || second < 0 || indexOf(decoded, second + 1) >= 0) {
            reply(s, SmtpReply.AUTH_BAD_PLAIN);
            return null;
        }
        String authzid = first == 0 ? null : new String(decoded, 0, first, StandardCharsets.UTF_8);
        String username = new String(decoded, first + 1, second - first - 1, StandardCharsets.UTF_8);
        String secret = new String(decoded, second + 1, decoded.length - second - 1, StandardCharsets.UTF_8);
        return new Credentials(authzid, username, secret);
    }

    private Credentials login(Session s, String initial) throws IOException, DropConnectionException {
        String userB64 = initial;
        if (userB64 == null) {
            s.sendResponse("334 VXNlcm5hbWU6"); // "Username:"
            userB64 = readResponse(s);
            if (userB64 == null) {
                return null;
            }
        }
        byte[] user = decode(s, userB64);
        if (user == null) {
            return null;
        }
        s.sendResponse("334 UGFzc3dvcmQ6"); // "Password:"
        String passB64 = readResponse(s);
        if (passB64 == null) {
            return null;
        }
        byte[] pass = decode(s, passB64);
        if (pass == null) {
            return null;
        }
        return new Credentials(null, new String(user, StandardCharsets.UTF_8), new String(pass, StandardCharsets.UTF_8));
    }

    /** Reads one continuation line; handles "*" (cancel, RFC 4954 section 4), EOF and a session out of budget. */
    private String readResponse(Session s) throws IOException, DropConnectionException {
        String r = s.getReader().readLine();
        if (r == null) {
            s.quit();
            return null;
        }
        SmtpReply closing = SessionBudget.closingReply(r);
        if (closing != null) {
            throw Commands.Closing.close(s, closing, ctx); // a deadline passed while the client held the exchange
        }
        String response = Ascii.trim(r);
        if (response.equals("*")) {
            s.sendResponse("501 5.0.0 Authentication cancelled");
            return null;
        }
        if (r.length() > MAX_RESPONSE) {
            reply(s, SmtpReply.AUTH_TOO_LONG);
            return null;
        }
        return response;
    }

    private static byte[] decode(Session s, String b64) throws IOException {
        if (b64.equals("=")) {
            return new byte[0]; // RFC 4954: "=" is an empty initial response
        }
        if (b64.length() > MAX_RESPONSE) {
            reply(s, SmtpReply.AUTH_TOO_LONG);
            return null;
        }
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            reply(s, SmtpReply.AUTH_BAD_BASE64);
            return null;
        }
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private void decide(Session s, Credentials c) throws IOException, DropConnectionException {
        InetAddress client = SmtpContext.clientAddress(s);
        AuthDecision d = ctx.authenticator().authenticate(c.secret(), client, Grant.SMTP_INJECT);
        if (d instanceof AuthDecision.Unavailable u) {
            ctx.metrics().authUnavailable();
            log.warn("AUTH failed temporarily: key store unreachable ({}) client={}", LogText.quote(u.cause().getMessage()),
                    client.getHostAddress());
            reply(s, SmtpReply.AUTH_UNAVAILABLE);
            return;
        }
        if (d instanceof AuthDecision.Denied denied) {
            refuse(s, denied.reason(), denied.key(), c, client);
            return;
        }
        ApiKey key = ((AuthDecision.Accepted) d).key();
        if (c.authzid() != null && !Ascii.equalsIgnoreCase(c.authzid(), c.username())) {
            // RFC 4616: the authzid asks to act as someone else. keyrelay has no such proxy authorization (nor does
            // Postfix with Cyrus SASL by default): refused, rather than silently dropped.
            refuse(s, AuthDecision.Reason.AUTHZID_MISMATCH, key, c, client);
            return;
        }
        Username u = parseUsername(c.username());
        if (u == null) {
            refuse(s, AuthDecision.Reason.BAD_USERNAME, key, c, client);
            return;
        }
        Long subaccount = key.subaccountId();
        if (u.subaccount() != null) {
            if (subaccount != null && !subaccount.equals(u.subaccount())) {
                refuse(s, AuthDecision.Reason.SUBACCOUNT_MISMATCH, key, c, client);
                return;
            }
            subaccount = u.subaccount();
        }
        RelayPrincipal principal = new RelayPrincipal(key, u.base(), subaccount);
        int maxSessions = ctx.limitsFor(key).sessionsPerKey();
        if (!keySessions.open(key.id(), maxSessions)) {
            ctx.metrics().limitReached(KeyLimits.Limit.SESSIONS_PER_KEY);
            log.info("AUTH refused: key_id={} short_key={} has {} sessions open (sessions_per_key {}) client={}",
                    key.id(), key.shortKey(), keySessions.openFor(key.id()), maxSessions, client.getHostAddress());
            throw Commands.Closing.close(s, SmtpReply.KEY_SESSIONS, ctx);
        }
        s.setAuthenticationHandler(new Authenticated(principal)); // its place is given back when the session ends
        SessionBudget.of(s).authenticated();
        ctx.metrics().authAccepted();
        if (log.isDebugEnabled()) {
            log.debug("AUTH accepted: key_id={} short_key={} subaccount={} client={}", key.id(), key.shortKey(),
                    subaccount, client.getHostAddress());
        }
        reply(s, SmtpReply.AUTH_OK);
    }

    private void refuse(Session s, AuthDecision.Reason reason, ApiKey key, Credentials c, InetAddress client)
            throws IOException, DropConnectionException {
        String username = c.username();
        ctx.metrics().authDenied(reason);
        ctx.audit().authFailed("smtp", reason.wireName(), key, printable(username), client);
        log.warn("AUTH refused: reason={} key_id={} short_key={} username=\"{}\" client={}", reason.wireName(),
                key == null ? "-" : key.id(), key == null ? "-" : key.shortKey(), printable(username),
                client.getHostAddress());
        AuthThrottle.Outcome outcome = ctx.throttle().refused(client, c.secret(), reason);
        ctx.throttle().pauseAfterFailure();
        if (outcome == AuthThrottle.Outcome.BANNED) {
            ctx.metrics().authBanned();
            log.warn("AUTH throttled: client={} refused until {} after {} distinct wrong keys within {}",
                    AddressBucket.of(client),
                    ctx.throttle().bannedUntil(client).map(Object::toString).orElse("-"),
                    ctx.throttle().limits().failures(), Durations.format(ctx.throttle().limits().window()));
            throw SmtpReply.AUTH_THROTTLED.drop();
        }
        reply(s, SmtpReply.AUTH_INVALID);
    }

    /** The username's base and chosen subaccount; null if the base is not an accepted username. */
    private record Username(String base, Long subaccount) {}

    private Username parseUsername(String username) {
        String base = username;
        Long sub = null;
        // ASCII case only: U+0131 and U+017F must not fold into SMTP_Injection, nor U+212A into X-MSYS-… .
        int i = Ascii.indexOfIgnoreCase(username, SUBACCOUNT_SUFFIX);
        if (i >= 0) {
            base = username.substring(0, i);
            long n = Ascii.parseDigits(username.substring(i + SUBACCOUNT_SUFFIX.length()), 18);
            if (n < 0) {
                return null; // not 0-9 only: "+1", "٣", "" and "1 " are no subaccount
            }
            sub = n;
        }
        for (String accepted : ctx.config().auth().usernames()) {
            if (Ascii.equalsIgnoreCase(accepted, base)) {
                return new Username(accepted, sub);
            }
        }
        return null;
    }

    /** A run of hex digits long enough to be (part of) a key; subaccount numbers stay readable. */
    private static final java.util.regex.Pattern KEY_LIKE = java.util.regex.Pattern.compile("[0-9a-fA-F]{16,}");

    /**
     * A username safe to put in a log line or the audit trail: printable ASCII, at most 64 characters, and never a
     * key — a client that puts its key in the username field by mistake must not have it written down, so any run
     * of 16 or more hex digits becomes {@code ****} (before truncating, so no part of a key survives either).
     */
    static String printable(String s) {
        String masked = KEY_LIKE.matcher(s).replaceAll("****");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < masked.length() && b.length() < 64; i++) {
            char ch = masked.charAt(i);
            b.append(ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '?');
        }
        return b.toString();
    }


    /** The session's authentication state, as SubEthaSMTP keeps it: the identity is the principal. */
    record Authenticated(RelayPrincipal principal) implements AuthenticationHandler {
        @Override
        public Optional<String> auth(String clientInput, MessageContext context) {
            return Optional.empty();
        }

        @Override
        public Object getIdentity() {
            return principal;
        }
    }

    static RelayPrincipal principalOf(Session s) {
        return s.getAuthenticationHandler().map(h -> (RelayPrincipal) h.getIdentity()).orElse(null);
    }
}
