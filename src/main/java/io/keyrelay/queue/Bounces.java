package io.keyrelay.queue;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;

/**
 * keyrelay's own delivery status notifications (RFC 3464), built with Angus Mail's DSN classes: one
 * {@code multipart/report} per attempt that failed recipients (or, with {@code queue.delay_warning}, found them
 * still deferred), from the null sender {@code <>} to the message's envelope sender, sent through the queue like
 * any message.
 *
 * <p>RFC 3461 is honoured: a recipient with {@code NOTIFY=NEVER} (or a NOTIFY without FAILURE, or without DELAY for
 * a warning) is left out; a message whose sender is {@code <>} — a bounce itself — never gets one (RFC 5321
 * section 6.1, RFC 3461 section 6.2). {@code RET=HDRS} returns the headers only; {@code RET=FULL} or no RET returns
 * the whole message when it is at most {@link #FULL_RETURN_LIMIT} bytes, else its headers (Postfix's
 * {@code bounce_size_limit}), so a bounce never holds a large message in memory.
 */
final class Bounces {
    /** Largest original message returned whole in a bounce (Postfix's {@code bounce_size_limit} default). */
    static final long FULL_RETURN_LIMIT = 50_000;
    /** Most header bytes of the original read for a bounce. */
    private static final int HEADER_LIMIT = 64 * 1024;
    private static final Pattern ENHANCED = Pattern.compile("^(?:[245]\\d\\d[ -])?([245]\\.\\d{1,3}\\.\\d{1,3})\\b");
    private static final Pattern SMTP_REPLY = Pattern.compile("^[245]\\d\\d[ -].*");
    private static final DateTimeFormatter RFC822 = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z",
            Locale.ENGLISH).withZone(ZoneOffset.UTC);

    /** What a report is about: recipients that failed, or are delayed (a warning). */
    enum Kind { FAILED, DELAYED }

    private final String reportingMta;
    private final QueueId ids;
    private final Clock clock;
    private final Session session = Session.getInstance(new Properties());

    Bounces(String reportingMta, Clock clock) {
        this.reportingMta = reportingMta;
        this.ids = new QueueId(clock);
        this.clock = clock;
    }

    /** The recipients of {@code outcome} a report of {@code kind} is owed to, by their NOTIFY; empty for a {@code <>} sender. */
    static List<Outcome.Result> owed(Claim claim, Outcome outcome, Kind kind) {
        List<Outcome.Result> out = new ArrayList<>();
        if (claim.envelope().sender().isEmpty()) {
            return out;
        }
        Outcome.Kind want = kind == Kind.FAILED ? Outcome.Kind.FAILED : Outcome.Kind.DEFERRED;
        String keyword = kind == Kind.FAILED ? "FAILURE" : "DELAY";
        for (Outcome.Result r : outcome.results()) {
            if (r.kind() == want && notifies(notifyOf(claim, r.seq()), keyword)) {
                out.add(r);
            }
        }
        return out;
    }

    /** RFC 3461 section 4.1: absent NOTIFY means FAILURE and DELAY; NEVER means none. */
    static boolean notifies(String notify, String keyword) {
        if (notify == null) {
            return true;
        }
        for (String k : notify.split(",")) {
            if (k.strip().equalsIgnoreCase(keyword)) {
                return true;
            }
        }
        return false;
    }

    private static String notifyOf(Claim claim, int seq) {
        for (Claim.Pending p : claim.recipients()) {
            if (p.seq() == seq) {
                return p.recipient().dsnNotify();
            }
        }
        return null;
    }

    private static String orcptOf(Claim claim, int seq) {
        for (Claim.Pending p : claim.recipients()) {
            if (p.seq() == seq) {
                return p.recipient().dsnOrcpt();
            }
        }
        return null;
    }

    /**
     * The report for {@code results} (non-empty, from {@link #owed}) of {@code claim}, as a new queued message to
     * the claim's sender. {@code original} is the stored message (it is read only as far as needed).
     */
    NewMessage report(Claim claim, Outcome outcome, Kind kind, List<Outcome.Result> results, InputStream original,
            String remoteMta) throws IOException {
        try {
            DeliveryStatus status = new DeliveryStatus();
            InternetHeaders perMessage = new InternetHeaders();
            perMessage.addHeader("Reporting-MTA", "dns; " + reportingMta);
            perMessage.addHeader("X-Keyrelay-Queue-ID", claim.id());
            if (claim.envelope().dsnEnvid() != null) {
                perMessage.addHeader("Original-Envelope-Id", claim.envelope().dsnEnvid());
            }
            perMessage.addHeader("Arrival-Date", RFC822.format(claim.createdAt()));
            status.setMessageDSN(perMessage);
            StringBuilder text = new StringBuilder();
            text.append(kind == Kind.FAILED
                    ? "This is the mail system at " + reportingMta + ".\r\n\r\nYour message could not be delivered"
                            + " to the recipients below.\r\n"
                    : "This is the mail system at " + reportingMta + ".\r\n\r\nYour message has not been delivered"
                            + " yet to the recipients below. It is still in the queue and will be retried; you do not"
                            + " need to send it again.\r\n");
            text.append("\r\nQueue ID: ").append(claim.id()).append("\r\n\r\n");
            for (Outcome.Result r : results) {
                InternetHeaders rh = new InternetHeaders();
                String orcpt = orcptOf(claim, r.seq());
                if (orcpt != null) {
                    rh.addHeader("Original-Recipient", io.keyrelay.text.Xtext.orcptForReport(orcpt));
                }
                rh.addHeader("Final-Recipient", "rfc822; " + r.address());
                rh.addHeader("Action", kind == Kind.FAILED ? "failed" : "delayed");
                rh.addHeader("Status", status(r.reply(), kind));
                if (remoteMta != null) {
                    rh.addHeader("Remote-MTA", "dns; " + remoteMta);
                }
                rh.addHeader("Diagnostic-Code", SMTP_REPLY.matcher(r.reply()).matches() ? "smtp; " + r.reply()
                        : "X-keyrelay; " + r.reply());
                rh.addHeader("Last-Attempt-Date", RFC822.format(outcome.finishedAt()));
                status.addRecipientDSN(rh);
                text.append("<").append(r.address()).append(">: ").append(r.reply()).append("\r\n");
            }
            MultipartReport report = returned(claim, text.toString(), status, original);
            MimeMessage m = new MimeMessage(session);
            m.setHeader("From", "Mail Delivery System <MAILER-DAEMON@" + reportingMta + ">");
            m.setHeader("To", "<" + claim.envelope().sender() + ">");
            m.setSubject(kind == Kind.FAILED ? "Undelivered Mail Returned to Sender"
                    : "Delayed Mail (still being retried)");
            m.setSentDate(Date.from(clock.instant()));
            m.setHeader("Auto-Submitted", "auto-replied"); // RFC 3834: no auto-reply to this
            m.setContent(report);
            m.saveChanges();
            String id = ids.next();
            m.setHeader("Message-ID", "<" + id + "@" + reportingMta + ">");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            m.writeTo(out);
            Envelope env = new Envelope("", io.keyrelay.relay.MailParams.NONE, null, null,
                    List.of(new Envelope.Recipient(claim.envelope().sender(), "NEVER", null)));
            return new NewMessage(id, env, new Origin(claim.origin().keyId(), claim.origin().shortKey(),
                    claim.origin().subaccountId(), "local", claim.origin().node()), out.toByteArray());
        } catch (MessagingException e) {
            throw new IOException("cannot build the delivery status notification for " + claim.id() + ": "
                    + e.getMessage(), e);
        }
    }

    private MultipartReport returned(Claim claim, String text, DeliveryStatus status, InputStream original)
            throws MessagingException, IOException {
        boolean full = !"HDRS".equalsIgnoreCase(claim.envelope().dsnRet()) && claim.size() <= FULL_RETURN_LIMIT;
        if (full) {
            return new MultipartReport(text, status, new MimeMessage(session, original));
        }
        InternetHeaders headers = new InternetHeaders(new LimitedStream(original, HEADER_LIMIT));
        return new MultipartReport(text, status, headers);
    }

    /** The status code for a report: the reply's enhanced code when it has one, else one from its class. */
    static String status(String reply, Kind kind) {
        Matcher m = ENHANCED.matcher(reply);
        if (m.find()) {
            return m.group(1);
        }
        if (kind == Kind.DELAYED || reply.startsWith("4")) {
            return "4.0.0";
        }
        return "5.0.0";
    }

    /** A new message for the queue: id, envelope, origin and its bytes. */
    record NewMessage(String id, Envelope envelope, Origin origin, byte[] bytes) {}

    /** Reads at most {@code limit} bytes of {@code in}. */
    private static final class LimitedStream extends InputStream {
        private final InputStream in;
        private long left;

        LimitedStream(InputStream in, long limit) {
            this.in = in;
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
