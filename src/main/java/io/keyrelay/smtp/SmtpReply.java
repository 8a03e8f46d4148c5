package io.keyrelay.smtp;

import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.RejectException;

/**
 * Every reply keyrelay itself sends, with its enhanced status code (RFC 3463). Rejections are thrown from here so
 * no reply text is scattered through the code. Replies that come from the downstream are passed through as the
 * downstream wrote them and are not listed.
 */
public enum SmtpReply {
    AUTH_OK(235, "2.7.0 Authentication successful"),
    AUTH_INVALID(535, "5.7.8 Authentication credentials invalid"),
    AUTH_UNAVAILABLE(454, "4.7.0 Temporary authentication failure"),
    AUTH_ENCRYPTION_REQUIRED(538, "5.7.11 Encryption required for requested authentication mechanism"),
    AUTH_REQUIRED(530, "5.7.0 Authentication required"),
    CREDENTIALS_WITHDRAWN(421, "4.7.0 The API key is no longer valid for sending; closing connection"),
    AUTH_BAD_BASE64(501, "5.5.2 Invalid base64 data"),
    AUTH_BAD_PLAIN(501, "5.5.2 Invalid AUTH PLAIN response (expected authzid NUL authcid NUL password)"),
    AUTH_TOO_LONG(500, "5.5.6 Authentication exchange line is too long"),
    AUTH_THROTTLED(421, "4.7.0 Too many failed authentication attempts; try again later"),

    TLS_READY(220, "2.0.0 Ready to start TLS"),
    TLS_SYNTAX(501, "5.5.4 Syntax: STARTTLS (no parameters)"),
    TLS_UNAVAILABLE(454, "4.7.0 TLS not available"),
    TLS_ACTIVE(503, "5.5.1 TLS already active"),
    TLS_AFTER_AUTH(503, "5.5.1 STARTTLS is not allowed after AUTH"),

    PROXY_UNTRUSTED(554, "5.7.1 Connections to this port must come through a trusted proxy"),
    PROXY_HEADER_INVALID(421, "4.3.0 PROXY protocol header missing or invalid"),

    SENDER_OK(250, "2.1.0 Sender ok"),
    MAIL_SYNTAX(501, "5.5.4 Syntax: MAIL FROM:<address> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]"),
    MAIL_NESTED(503, "5.5.1 Sender already specified"),
    MAIL_PARAMETER(555, "5.5.4 Unsupported MAIL FROM parameter"),
    /** RFC 3461 section 4.3, 4.4: a RET or ENVID that is malformed, repeated, or (ENVID) longer than 100 characters. */
    MAIL_DSN_SYNTAX(501, "5.5.4 Syntax: RET=FULL|HDRS, ENVID=xtext of at most 100 characters (RFC 3461)"),
    /** RFC 3461 section 4.1, 4.2: a NOTIFY or ORCPT that is malformed or repeated. */
    RCPT_DSN_SYNTAX(501, "5.5.4 Syntax: NOTIFY=NEVER|SUCCESS,FAILURE,DELAY, ORCPT=addr-type;xtext (RFC 3461)"),
    BAD_SENDER(553, "5.1.7 Invalid sender address"),
    BAD_RECIPIENT(553, "5.1.3 Invalid recipient address"),
    SMTPUTF8_REQUIRED(553, "5.6.7 Non-ASCII address requires SMTPUTF8"),
    TOO_MANY_RECIPIENTS(452, "4.5.3 Too many recipients"),
    NEED_MAIL(503, "5.5.1 Need MAIL command"),
    NEED_RCPT(503, "5.5.1 Need RCPT command"),
    START_DATA(354, "End data with <CR><LF>.<CR><LF>"),
    MESSAGE_TOO_BIG(552, "5.3.4 Message size exceeds fixed maximum message size"),
    /** Templates: {@code %d} is the key's limit. Sent at MAIL FROM; the client retries later (RFC 5321 4.2.5). */
    RATE_LIMITED(451, "4.7.1 Rate limit reached: this API key may send %d messages per minute; try again shortly"),
    DAILY_QUOTA_REACHED(451, "4.7.1 Daily quota reached: this API key may send %d messages per UTC day;"
            + " try again after 00:00 UTC"),
    BDAT_UNSUPPORTED(502, "5.5.1 BDAT is not supported here; use DATA"),
    LINE_TOO_LONG(500, "5.5.2 Line too long: a command line may have 997 octets before its CRLF"),
    BARE_CR_OR_LF(500, "5.5.2 Syntax error: CR and LF must come together, as CRLF, at the end of the line"),
    NOT_UTF8(500, "5.5.2 Syntax error: the command line is not valid UTF-8"),
    NON_ASCII_COMMAND(500, "5.5.1 Command unrecognized: SMTP commands are ASCII"),

    /** The limits on one client address, checked at connect (after a PROXY header). */
    ADDRESS_CONNECTIONS(421, "4.7.0 Too many connections from your address; try again later"),
    ADDRESS_RATE(421, "4.7.0 Too many new connections from your address; try again later"),
    /** The limits on one session: its errors and junk commands, and its deadlines. */
    TOO_MANY_ERRORS(421, "4.7.0 Too many errors; closing connection"),
    COMMAND_TIMEOUT(421, "4.7.0 Command line not completed in time; closing connection"),
    AUTH_TIMEOUT(421, "4.7.0 Not authenticated in time; closing connection"),
    TRANSACTION_TIMEOUT(421, "4.7.0 Mail transaction not completed in time; closing connection"),
    DATA_TIMEOUT(421, "4.7.0 Message data not completed in time; closing connection"),
    /** The limit on one key's concurrent sessions, checked at AUTH. */
    KEY_SESSIONS(421, "4.7.0 Too many concurrent sessions for this API key; try again later"),

    /**
     * Sender policy ({@code sending_domains.require}): SparkPost's reply for a domain the key may not send as, at MAIL
     * FROM for the envelope and after the end of DATA for {@code From:}/{@code Sender:}. Templates: {@code %s}.
     */
    UNCONFIGURED_SENDING_DOMAIN(550, "5.7.1 Unconfigured Sending Domain <%s>"),
    NO_PARSEABLE_FROM(550, "5.7.1 The message has no parseable From: header (%s)"),
    UNREADABLE_SENDER(550, "5.7.1 The message's Sender: header cannot be read (%s)"),
    UNSIGNABLE(451, "4.3.0 The message could not be signed; try again later"),

    DOWNSTREAM_UNAVAILABLE(451, "4.4.1 Downstream server unavailable; try again later"),
    LOCAL_ERROR(451, "4.3.0 Local error in processing; try again later"),
    /** Queue mode: the message is committed to the store (the id is the queue id). */
    QUEUED(250, "2.0.0 Ok: queued as %s"),
    /** Queue mode: the store could not commit the message; nothing of it was kept. */
    QUEUE_UNAVAILABLE(451, "4.3.0 Message not queued: the store is unavailable; try again later"),
    SHUTTING_DOWN(421, "4.3.2 Service shutting down; try again later");

    private final int code;
    private final String text;

    SmtpReply(int code, String text) {
        this.code = code;
        this.text = text;
    }

    public int code() {
        return code;
    }

    public String text() {
        return text;
    }

    /** The reply line without CRLF, as sent. */
    public String line() {
        return code + " " + text;
    }

    /** The reply line of a template reply with its text ({@link #QUEUED} and the queue id, a sending domain). */
    public String line(String value) {
        return code + " " + text.formatted(value);
    }

    /** The reply line of a template reply ({@link #RATE_LIMITED}, {@link #DAILY_QUOTA_REACHED}) with its number. */
    public String line(long value) {
        return code + " " + text.formatted(value);
    }

    /** This reply as a rejection SubEthaSMTP sends for us (no stack trace is captured). */
    public RejectException reject() {
        return new RejectException(code, text);
    }

    /** This reply, then the connection is closed. */
    public DropConnectionException drop() {
        return new DropConnectionException(code, text);
    }
}
