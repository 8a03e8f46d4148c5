package io.keyrelay.domains;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Asks DNS for the TXT records at a name, with dnsjava, and says how sure the answer is: {@link Found} and
 * {@link Absent} (NXDOMAIN, or the name without TXT records) are authoritative answers; {@link Unavailable}
 * (a timeout, SERVFAIL, REFUSED, a network error) is no answer at all, on which nothing should change.
 * Servers are the system resolver's ({@code /etc/resolv.conf}) or those configured in {@code dns.servers}.
 */
public final class DnsTxtLookup {
    /** What DNS said about one name. */
    public sealed interface Answer {}

    /** The TXT records at the name, each one's strings joined (RFC 6376 §3.6.2.2). */
    public record Found(List<String> texts) implements Answer {}

    /** The name does not exist ({@code nxdomain}) or has no TXT record. */
    public record Absent(boolean nxdomain) implements Answer {}

    /** No usable answer: the reason, for the caller and the log. */
    public record Unavailable(String reason) implements Answer {}

    private final Resolver resolver;

    private DnsTxtLookup(Resolver resolver) {
        this.resolver = resolver;
    }

    /**
     * A lookup through {@code servers} (empty: the system's resolvers), each tried in turn, waiting
     * {@code timeout} for an answer in all.
     */
    public static DnsTxtLookup using(List<InetSocketAddress> servers, Duration timeout) {
        ExtendedResolver r;
        if (servers.isEmpty()) {
            r = new ExtendedResolver();
        } else {
            List<Resolver> each = new ArrayList<>();
            for (InetSocketAddress s : servers) {
                SimpleResolver one = new SimpleResolver(s);
                one.setTimeout(timeout);
                each.add(one);
            }
            r = new ExtendedResolver(each);
        }
        r.setTimeout(timeout);
        r.setRetries(1);
        return new DnsTxtLookup(r);
    }

    /** The TXT records at {@code name} (an absolute name, without the trailing dot). */
    public Answer txt(String name) {
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            return new Unavailable(name + " is not a DNS name: " + e.getMessage());
        }
        Message response;
        try {
            response = resolver.send(Message.newQuery(Record.newRecord(qname, Type.TXT, DClass.IN)));
        } catch (IOException e) {
            return new Unavailable("no answer from DNS (" + e.getMessage() + ")");
        }
        int rcode = response.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            return new Absent(true);
        }
        if (rcode != Rcode.NOERROR) {
            return new Unavailable("DNS answered " + Rcode.string(rcode));
        }
        List<String> texts = new ArrayList<>();
        for (Record rec : response.getSection(Section.ANSWER)) {
            if (rec instanceof TXTRecord txt) {
                // The raw bytes: getStrings() gives the zone-file form, with quotes and backslashes escaped.
                StringBuilder b = new StringBuilder();
                for (byte[] s : txt.getStringsAsByteArrays()) {
                    b.append(new String(s, StandardCharsets.UTF_8));
                }
                texts.add(b.toString());
            }
        }
        return texts.isEmpty() ? new Absent(false) : new Found(texts);
    }
}
