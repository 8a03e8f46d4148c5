package io.keyrelay.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.keys.KeyGenerator;
import io.keyrelay.keys.KeyHasher;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.store.Database;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import io.keyrelay.testing.ScriptedMta;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Durability drills against a real {@code keyrelay serve} process killed with {@code kill -9}, on H2 and
 * PostgreSQL: a message answered 250 is delivered after a restart; one killed during DATA leaves nothing; a 50 MB
 * message goes in and out through a heap smaller than itself.
 */
class QueueDrillIT {
    private static final int MB = 1 << 20;

    @TempDir
    Path dir;

    static CreatedKey createKey(TestDatabases.TestDb db) {
        try (Database d = Database.open(db.db(), db.dataDir())) {
            d.migrate();
            return new KeyService(new JdbcKeyStore(d.dataSource()), KeyHasher.sha256(), new KeyGenerator(),
                    Clock.systemUTC()).create(new KeySpec("drill", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY,
                    null, null), Actor.CLI);
        }
    }

    /**
     * How many messages the store holds, read in this JVM while no relay runs. H2 first has to notice that the
     * killed process's AUTO_SERVER (named in the lock file it left) is gone, which can take a few seconds.
     */
    static long queued(TestDatabases.TestDb db) {
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            try (Database d = Database.open(db.db(), db.dataDir())) {
                return new QueueService(new JdbcQueueStore(d.dataSource()), Clock.systemUTC(), () -> { }).counts()
                        .values().stream().mapToLong(Long::longValue).sum();
            }
        }, n -> true);
    }

    /**
     * {@code keyrelay serve} on the store, relaying to 127.0.0.1:downstreamPort, retrying after 1s, with leases of
     * {@code lease} (a message a killed node was delivering is due again after it); {@code extra} environment
     * variables override these.
     */
    private static RelayProcess serve(TestDatabases.TestDb db, int port, int downstreamPort, String lease,
            List<String> jvm) {
        return serve(db, port, downstreamPort, lease, jvm, Map.of());
    }

    static RelayProcess serve(TestDatabases.TestDb db, int port, int downstreamPort, String lease,
            List<String> jvm, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("KEYRELAY_SMTP_LISTEN", "127.0.0.1");
        env.put("KEYRELAY_SMTP_PORT", Integer.toString(port));
        env.put("KEYRELAY_SMTP_AUTH_PLAINTEXT", "loopback");
        env.put("KEYRELAY_SMTP_MAX_MESSAGE_SIZE", "60MiB");
        env.put("KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1");
        env.put("KEYRELAY_DOWNSTREAM_PORT", Integer.toString(downstreamPort));
        env.put("KEYRELAY_DOWNSTREAM_TLS", "none");
        env.put("KEYRELAY_DOWNSTREAM_CONNECT_TIMEOUT", "2s");
        env.put("KEYRELAY_ADMIN_PORT", "0");
        env.put("KEYRELAY_QUEUE_RETRY_SCHEDULE", "1s");
        env.put("KEYRELAY_QUEUE_LEASE", lease);
        env.put("KEYRELAY_SENDING_DOMAINS_REQUIRE", "off"); // the drill sends from arbitrary domains
        env.putAll(extra); // last: a drill may override any of the above
        RelayProcess p = RelayProcess.start(db.dataDir(), jvm, env, "serve");
        p.awaitLine(l -> l.contains("SMTP listening on 127.0.0.1:" + port), Duration.ofSeconds(60));
        return p;
    }

    static RawSmtpClient client(int port, String key) {
        RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1");
        c.expect(220);
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
        return c;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void killedRightAfterThe250_theMessageIsDeliveredAfterTheRestart(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); ScriptedMta mta = new ScriptedMta()) {
            CreatedKey key = createKey(db);
            int port = FreePorts.pick();
            int nowhere = FreePorts.pick(); // nothing listens: the first node cannot deliver before it dies
            byte[] content = "Subject: kill -9\r\n\r\nstill here\r\n".getBytes(StandardCharsets.US_ASCII);
            try (RelayProcess relay = serve(db, port, nowhere, "5s", List.of())) {
                try (RawSmtpClient c = client(port, key.secret())) {
                    c.send("app@example.com", List.of("r@dest.test"), content).assertCode(250);
                    relay.kill9(); // the instant after the 250
                }
            }
            assertThat(queued(db)).isEqualTo(1);
            try (RelayProcess relay = serve(db, port, mta.port(), "5s", List.of())) {
                await().atMost(Duration.ofSeconds(30)).until(() -> mta.received().size() == 1);
                String got = new String(mta.received().getFirst().data(), StandardCharsets.US_ASCII);
                assertThat(got).startsWith("Received: ").endsWith(new String(content, StandardCharsets.US_ASCII));
                relay.terminate(Duration.ofSeconds(30));
            }
            assertThat(queued(db)).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void killedDuringData_noReplyAndNothingQueued(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); ScriptedMta mta = new ScriptedMta()) {
            CreatedKey key = createKey(db);
            int port = FreePorts.pick();
            try (RelayProcess relay = serve(db, port, mta.port(), "5s", List.of());
                    RawSmtpClient c = client(port, key.secret())) {
                c.command("MAIL FROM:<app@example.com>").assertCode(250);
                c.command("RCPT TO:<r@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                OutputStream out = c.socket().getOutputStream();
                out.write("Subject: half\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[] {'x'});
                byte[] line = ("y".repeat(78) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 20_000; i++) { // ~1.6 MB: several chunks are in the open transaction
                    out.write(line);
                }
                out.flush();
                relay.kill9();
                assertThat(c.closedByServer()).isTrue();
            }
            assertThat(queued(db)).isZero();
            assertThat(mta.received()).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void fiftyMegabyteMessage_isQueuedAndDeliveredThroughASmallHeap(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir); ScriptedMta mta = new ScriptedMta()) {
            CreatedKey key = createKey(db);
            int port = FreePorts.pick();
            // The whole heap is smaller than the message: growth is bounded well under 64 MB by construction.
            try (RelayProcess relay = serve(db, port, mta.port(), "2m", List.of("-Xmx40m", "-XX:+ExitOnOutOfMemoryError"));
                    RawSmtpClient c = client(port, key.secret())) {
                c.command("MAIL FROM:<big@example.com> SIZE=" + (50 * MB + 100)).assertCode(250);
                c.command("RCPT TO:<rcpt@dest.test>").assertCode(250);
                c.command("DATA").assertCode(354);
                OutputStream out = c.socket().getOutputStream();
                out.write("Subject: fifty megabytes\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] line = ("0123456789".repeat(7) + "abcdefgh\r\n").getBytes(StandardCharsets.US_ASCII);
                byte[] chunk = new byte[line.length * 800];
                for (int i = 0; i < 800; i++) {
                    System.arraycopy(line, 0, chunk, i * line.length, line.length);
                }
                long written = 0;
                while (written < 50L * MB) {
                    out.write(chunk);
                    written += chunk.length;
                }
                out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                RawSmtpClient.Reply r = c.read();
                assertThat(r.code()).as("relay output: %s", relay.stderr()).isEqualTo(250);
                assertThat(r.text()).contains("queued as");
                await().atMost(Duration.ofSeconds(120)).until(() -> mta.received().size() == 1);
                assertThat((long) mta.received().getFirst().data().length).isGreaterThan(50L * MB);
                assertThat(relay.process().isAlive()).as("the relay survived with -Xmx40m").isTrue();
                assertThat(relay.stderr()).noneMatch(l -> l.contains("OutOfMemoryError"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void killedMidDelivery_deliveredByTheNextNodeAfterTheLease_andTheDuplicateRiskIsLogged(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir);
                ScriptedMta mta = new ScriptedMta().afterData(ScriptedMta.AfterData.SILENT)) {
            CreatedKey key = createKey(db);
            int port = FreePorts.pick();
            killMidDelivery(db, port, mta, key, "5s", Map.of("KEYRELAY_CLUSTER_NODE_NAME", "node-a"));
            mta.afterData(ScriptedMta.AfterData.REPLY);
            // Another node: it has only the lease to go by.
            try (RelayProcess second = serve(db, port, mta.port(), "5s", List.of(),
                    Map.of("KEYRELAY_CLUSTER_NODE_NAME", "node-b"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> mta.received().size() == 1);
                second.awaitLine(l -> l.contains("claimed again after a lease ran out"), Duration.ofSeconds(5));
                assertThat(mta.mailCommands()).isEqualTo(2);
                second.terminate(Duration.ofSeconds(30));
            }
            assertThat(queued(db)).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void killedMidDelivery_theSameNodeRestarted_takesItsClaimsBackAtOnce_notAfterTheLease(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir);
                ScriptedMta mta = new ScriptedMta().afterData(ScriptedMta.AfterData.SILENT)) {
            CreatedKey key = createKey(db);
            int port = FreePorts.pick();
            Map<String, String> node = Map.of("KEYRELAY_CLUSTER_NODE_NAME", "node-a");
            killMidDelivery(db, port, mta, key, "10m", node); // claimed for ten minutes
            mta.afterData(ScriptedMta.AfterData.REPLY);
            try (RelayProcess again = serve(db, port, mta.port(), "10m", List.of(), node)) {
                // Well inside the ten-minute lease: only the take-back at start can deliver it this soon.
                await().atMost(Duration.ofSeconds(30)).until(() -> mta.received().size() == 1);
                again.awaitLine(l -> l.contains("claimed by an earlier process of node node-a"), Duration.ofSeconds(5));
                again.awaitLine(l -> l.contains("claimed again after a lease ran out"), Duration.ofSeconds(5));
                again.terminate(Duration.ofSeconds(30));
            }
            assertThat(queued(db)).isZero();
        }
    }

    /**
     * A node (leasing for {@code lease}) takes one message, and is killed with {@code kill -9} once the silent
     * downstream has read the whole of it: the node dies mid-delivery, before it hears a reply.
     */
    private void killMidDelivery(TestDatabases.TestDb db, int port, ScriptedMta mta, CreatedKey key, String lease,
            Map<String, String> node) throws Exception {
        try (RelayProcess first = serve(db, port, mta.port(), lease, List.of(), node)) {
            try (RawSmtpClient c = client(port, key.secret())) {
                c.send("app@example.com", List.of("r@dest.test"), "Subject: mid\r\n\r\nx\r\n".getBytes())
                        .assertCode(250);
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> mta.messagesRead() == 1);
            first.kill9();
        }
    }
}
