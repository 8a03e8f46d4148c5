package io.keyrelay.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A downstream MTA whose answers a test chooses, for the failures GreenMail cannot produce: a recipient refused,
 * a 4xx at MAIL, a connection dropped in the middle of DATA. It records every message it accepted (raw bytes, as
 * received after unstuffing) and counts connections.
 */
public final class ScriptedMta implements AutoCloseable {
    /** A message the MTA accepted. */
    public record Received(String from, List<String> to, byte[] data) {}

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, String> rcptReplies = new ConcurrentHashMap<>();
    private volatile String mailReply = "250 2.1.0 Ok";
    private volatile Function<byte[], String> dataReply = d -> "250 2.0.0 Ok: queued as SCRIPTED";
    private volatile boolean dropMidData;
    private volatile boolean lenientEndOfData;
    private volatile AfterData afterData = AfterData.REPLY;
    private volatile boolean dropAtRcpt;
    private volatile boolean pipelining = true;
    private final AtomicInteger mailCommands = new AtomicInteger();
    private final AtomicInteger messagesRead = new AtomicInteger();
    private final AtomicInteger mailsWithMoreInTheSameRead = new AtomicInteger();

    /** What the MTA does once it has read a whole message. */
    public enum AfterData {
        /** Answers with {@link #dataReply} (and keeps the message if that is a 2xx). */
        REPLY,
        /** Closes the connection without a reply and without keeping the message: a crash before the commit. */
        CLOSE,
        /** Keeps quiet, neither replying nor keeping the message, until the client goes away. */
        SILENT
    }
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    public ScriptedMta() {
        this(0);
    }

    /** On a chosen port (0: any), e.g. one a relay was told about before this MTA came up. */
    public ScriptedMta(int port) {
        try {
            server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = Thread.ofVirtual().start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Answer RCPT TO for this address with the given reply line. */
    public ScriptedMta rcptReply(String address, String reply) {
        rcptReplies.put(address.toLowerCase(java.util.Locale.ROOT), reply);
        return this;
    }

    public ScriptedMta mailReply(String reply) {
        this.mailReply = reply;
        return this;
    }

    public ScriptedMta dataReply(Function<byte[], String> reply) {
        this.dataReply = reply;
        return this;
    }

    /** Close the connection after reading some DATA bytes, without replying. */
    public ScriptedMta dropMidData(boolean drop) {
        this.dropMidData = drop;
        return this;
    }

    /**
     * Behave like the MTAs the 2023 SMTP-smuggling research exploited: a line that is a lone dot ends the data
     * whatever the line break around it — CR, LF or CRLF — so {@code <LF>.<LF>} inside a message would end it
     * here and let what follows run as commands.
     */
    public ScriptedMta lenientEndOfData(boolean lenient) {
        this.lenientEndOfData = lenient;
        return this;
    }

    public ScriptedMta afterData(AfterData behaviour) {
        this.afterData = behaviour;
        return this;
    }

    /** Whether EHLO offers PIPELINING (it does unless told otherwise). */
    public ScriptedMta pipelining(boolean offer) {
        this.pipelining = offer;
        return this;
    }

    /** Messages read to their end-of-data line, whatever the MTA then did with them ({@link AfterData}). */
    public int messagesRead() {
        return messagesRead.get();
    }

    /** MAIL FROM commands received. */
    public int mailCommands() {
        return mailCommands.get();
    }

    /** MAIL FROM commands that arrived with more (the first RCPT TO) already in the same read: pipelined. */
    public int pipelinedMailCommands() {
        return mailsWithMoreInTheSameRead.get();
    }

    /** Close the connection, without a reply, when a RCPT TO arrives. */
    public ScriptedMta dropAtRcpt(boolean drop) {
        this.dropAtRcpt = drop;
        return this;
    }

    public List<Received> received() {
        return received;
    }

    public int connections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                connections.incrementAndGet();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            say(out, "220 scripted.test ESMTP");
            String from = null;
            List<String> to = new CopyOnWriteArrayList<>();
            String line;
            while ((line = readLine(in)) != null) {
                String upper = line.toUpperCase(java.util.Locale.ROOT);
                if (upper.startsWith("EHLO")) {
                    say(out, "250-scripted.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE 100000000\r\n250 "
                            + (pipelining ? "PIPELINING" : "DSN"));
                } else if (upper.startsWith("MAIL FROM:")) {
                    mailCommands.incrementAndGet();
                    if (in.available() > 0) {
                        mailsWithMoreInTheSameRead.incrementAndGet();
                    }
                    String reply = mailReply;
                    from = reply.startsWith("2") ? line.substring(10) : null;
                    to.clear();
                    say(out, reply);
                } else if (upper.startsWith("RCPT TO:")) {
                    if (dropAtRcpt) {
                        return;
                    }
                    if (from == null) {
                        say(out, "503 5.5.1 Error: need MAIL command");
                        continue;
                    }
                    String addr = line.substring(8).replace("<", "").replace(">", "").strip();
                    String r = rcptReplies.getOrDefault(addr.toLowerCase(java.util.Locale.ROOT), "250 2.1.5 Ok");
                    if (r.startsWith("2")) {
                        to.add(addr);
                    }
                    say(out, r);
                } else if (upper.equals("DATA")) {
                    say(out, "354 go ahead");
                    if (dropMidData) {
                        in.readNBytes(10);
                        return;
                    }
                    byte[] data = lenientEndOfData ? readDataLeniently(in) : readData(in);
                    messagesRead.incrementAndGet();
                    if (afterData == AfterData.CLOSE) {
                        return;
                    }
                    if (afterData == AfterData.SILENT) {
                        while (in.read() != -1) {
                            // wait for the client to give up
                        }
                        return;
                    }
                    String r = dataReply.apply(data);
                    if (r.startsWith("2")) {
                        received.add(new Received(from, List.copyOf(to), data));
                    }
                    say(out, r);
                } else if (upper.equals("RSET")) {
                    from = null;
                    to.clear();
                    say(out, "250 2.0.0 Ok");
                } else if (upper.equals("QUIT")) {
                    say(out, "221 2.0.0 Bye");
                    return;
                } else if (upper.equals("NOOP")) {
                    say(out, "250 2.0.0 Ok");
                } else {
                    say(out, "502 5.5.2 Not implemented");
                }
            }
        } catch (IOException e) {
            // the relay went away
        } finally {
            open.remove(s);
        }
    }

    private static byte[] readData(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        int prev = -1;
        while ((c = in.read()) != -1) {
            line.write(c);
            if (prev == '\r' && c == '\n') {
                byte[] l = line.toByteArray();
                line.reset();
                if (l.length == 3 && l[0] == '.') {
                    return b.toByteArray();
                }
                int start = l.length > 0 && l[0] == '.' ? 1 : 0;
                b.write(l, start, l.length - start);
            }
            prev = c;
        }
        throw new IOException("EOF in DATA");
    }

    private static byte[] readDataLeniently(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        boolean lineStart = true;
        int c;
        while ((c = in.read()) != -1) {
            if (lineStart && c == '.') {
                in.mark(2);
                int next = in.read();
                if (next == '\r' || next == '\n') {
                    if (next == '\r') {
                        in.mark(1);
                        if (in.read() != '\n') {
                            in.reset();
                        }
                    }
                    return b.toByteArray();
                }
                in.reset(); // a stuffed dot: dropped
                lineStart = false;
                continue;
            }
            b.write(c);
            lineStart = c == '\r' || c == '\n';
        }
        throw new IOException("EOF in DATA");
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.UTF_8);
            }
            b.write(c);
        }
        return null;
    }

    private static void say(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }
        acceptor.interrupt();
    }
}
