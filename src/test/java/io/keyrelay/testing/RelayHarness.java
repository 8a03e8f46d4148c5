package io.keyrelay.testing;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.keyrelay.cli.RelayRuntime;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.keys.Actor;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.tls.SelfSignedCertificate;
import io.keyrelay.tls.TlsContexts;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A running relay for integration tests: a fresh key store (H2 or PostgreSQL), a self-signed certificate, GreenMail
 * as the downstream (or a capture folder), and the relay itself started through {@link RelayRuntime} exactly as
 * {@code keyrelay serve} starts it, every port chosen by the system.
 *
 * <pre>{@code
 * try (RelayHarness relay = RelayHarness.builder(tempDir).start()) {
 *     CreatedKey key = relay.createKey("app", Grant.SMTP_INJECT);
 *     try (RawSmtpClient c = relay.connect()) { c.ehlo(); c.startTls(relay.clientTls()); c.authPlain(key.secret()); ... }
 *     relay.greenMail().waitForIncomingEmail(1);
 * }
 * }</pre>
 */
public final class RelayHarness implements AutoCloseable {
    private final TestDatabases.TestDb db;
    private final GreenMail greenMail;
    private final RelayRuntime runtime;
    private final Path certFile;
    private final Path dir;
    private final RelayConfig config;

    private RelayHarness(TestDatabases.TestDb db, GreenMail greenMail, RelayRuntime runtime, Path certFile, Path dir,
            RelayConfig config) {
        this.db = db;
        this.greenMail = greenMail;
        this.runtime = runtime;
        this.certFile = certFile;
        this.dir = dir;
        this.config = config;
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /**
     * Options; defaults: H2, STARTTLS on an ephemeral loopback port, no plaintext AUTH, GreenMail downstream, and
     * the relay's own default mode ({@code relay.mode: queue}) unless {@link #passthrough()} is asked for.
     */
    public static final class Builder {
        private final Path dir;
        private TestDatabases.Kind kind = TestDatabases.Kind.H2;
        private boolean implicitTls;
        private boolean greenMailDownstream = true;
        private int downstreamPort;
        private final Map<Setting, String> settings = new EnumMap<>(Setting.class);
        private Clock clock = Clock.systemUTC();

        private Builder(Path dir) {
            this.dir = dir;
        }

        public Builder store(TestDatabases.Kind kind) {
            this.kind = kind;
            return this;
        }

        /** {@code relay.mode: passthrough}: for tests of relaying during the client's transaction. */
        public Builder passthrough() {
            settings.put(Setting.RELAY_MODE, "passthrough");
            return this;
        }

        /** Also listen with implicit TLS on a free port. */
        public Builder implicitTls() {
            this.implicitTls = true;
            return this;
        }

        /** Relay into data_dir/outbox instead of GreenMail (dev mode's capture folder). */
        public Builder captureFolder() {
            this.greenMailDownstream = false;
            return this;
        }

        /** Relay to a plain SMTP server on 127.0.0.1:port (e.g. a {@link ScriptedMta}) instead of GreenMail. */
        public Builder downstreamPort(int port) {
            this.greenMailDownstream = false;
            this.downstreamPort = port;
            return this;
        }

        /** The relay's clock (key expiry, message limits, audit times); a {@link MutableClock} lets a test move it. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Any configuration key, as text (as in the YAML file). */
        public Builder set(Setting s, String value) {
            settings.put(s, value);
            return this;
        }

        public RelayHarness start() {
            TestDatabases.TestDb db = TestDatabases.create(kind, dir);
            GreenMail gm = null;
            RelayRuntime rt = null;
            try {
                Path cert = dir.resolve("tls/cert.pem");
                Path key = dir.resolve("tls/key.pem");
                SelfSignedCertificate.write(cert, key, List.of(), Duration.ofDays(2));
                Map<Setting, String> s = new EnumMap<>(Setting.class);
                s.put(Setting.DATA_DIR, db.dataDir().toString());
                if (db.db().url() != null) {
                    s.put(Setting.DB_URL, db.db().url());
                    s.put(Setting.DB_USER, db.db().user());
                }
                s.put(Setting.SMTP_LISTEN, "::");
                s.put(Setting.SMTP_PORT, "0");
                s.put(Setting.SMTP_HOSTNAME, "relay.test");
                s.put(Setting.ADMIN_PORT, "0"); // off unless a test asks: parallel harnesses must not share 8080
                // Tests send from arbitrary domains; those about sending domains turn the policy on.
                s.put(Setting.SENDING_DOMAINS_REQUIRE, "off");
                // The delay before a failed AUTH is answered is AuthThrottleIT's subject; elsewhere it only slows tests.
                s.put(Setting.LIMITS_AUTH_DELAY, "0");
                s.put(Setting.SMTP_TLS_CERT, cert.toString());
                s.put(Setting.SMTP_TLS_KEY, key.toString());
                if (implicitTls) {
                    s.put(Setting.SMTP_IMPLICIT_TLS_PORT, Integer.toString(FreePorts.pick()));
                }
                if (greenMailDownstream) {
                    gm = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
                    gm.start();
                    s.put(Setting.DOWNSTREAM_HOST, "127.0.0.1");
                    s.put(Setting.DOWNSTREAM_PORT, Integer.toString(gm.getSmtp().getPort()));
                    s.put(Setting.DOWNSTREAM_TLS, "none");
                } else if (downstreamPort != 0) {
                    s.put(Setting.DOWNSTREAM_HOST, "127.0.0.1");
                    s.put(Setting.DOWNSTREAM_PORT, Integer.toString(downstreamPort));
                    s.put(Setting.DOWNSTREAM_TLS, "none");
                }
                s.putAll(settings);
                RelayConfig config = ConfigLoader.build(new ConfigLoader.Raw(s, List.of()));
                rt = new RelayRuntime(config, db.dataDir().resolve("outbox"), clock);
                return new RelayHarness(db, gm, rt, cert, dir, config);
            } catch (RuntimeException e) {
                if (rt != null) {
                    rt.close();
                }
                if (gm != null) {
                    gm.stop();
                }
                db.close();
                throw e;
            }
        }
    }

    public RelayRuntime runtime() {
        return runtime;
    }

    public RelayConfig config() {
        return config;
    }

    public TestDatabases.TestDb db() {
        return db;
    }

    public GreenMail greenMail() {
        return greenMail;
    }

    public int smtpPort() {
        return runtime.smtpPort();
    }

    public int implicitTlsPort() {
        return runtime.implicitTlsPort();
    }

    public Path dir() {
        return dir;
    }

    public Path certFile() {
        return certFile;
    }

    /** A client TLS context that trusts this relay's self-signed certificate. */
    public SSLContext clientTls() {
        return TlsContexts.client(certFile);
    }

    public CreatedKey createKey(String label, Grant... grants) {
        return createKey(new KeySpec(label, grants.length == 0 ? EnumSet.of(Grant.SMTP_INJECT)
                : EnumSet.copyOf(List.of(grants)), IpAllowlist.ANY, null, null));
    }

    public CreatedKey createKey(KeySpec spec) {
        return runtime.keyService().create(spec, Actor.CLI);
    }

    /** A key valid for a short while, for expiry tests. */
    public CreatedKey createExpiringKey(Duration validFor) {
        return createKey(new KeySpec("expiring", EnumSet.of(Grant.SMTP_INJECT), IpAllowlist.ANY, null,
                Instant.now().plus(validFor)));
    }

    /** A raw client connected from 127.0.0.1 to the STARTTLS port. */
    public RawSmtpClient connect() {
        return RawSmtpClient.connect("127.0.0.1", smtpPort(), "127.0.0.1");
    }

    /** Like {@link #authenticated(String)}, from the given local (loopback) address. */
    public RawSmtpClient authenticatedFrom(String localAddress, String key) {
        RawSmtpClient c = connectFrom(localAddress);
        c.expect(220);
        c.ehlo();
        c.startTls(clientTls());
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
        return c;
    }

    /** A raw client connected from the given local (loopback) address. */
    public RawSmtpClient connectFrom(String localAddress) {
        String target = localAddress.contains(":") ? "::1" : "127.0.0.1";
        return RawSmtpClient.connect(target, smtpPort(), localAddress);
    }

    /** Connects, says EHLO, starts TLS and authenticates with AUTH PLAIN; asserts each step succeeded. */
    public RawSmtpClient authenticated(String key) {
        RawSmtpClient c = connect();
        c.expect(220);
        c.ehlo();
        c.startTls(clientTls());
        c.ehlo();
        c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", key)).assertCode(235);
        return c;
    }

    @Override
    public void close() {
        try {
            runtime.close();
        } finally {
            try {
                if (greenMail != null) {
                    greenMail.stop();
                }
            } finally {
                db.close();
            }
        }
    }
}
