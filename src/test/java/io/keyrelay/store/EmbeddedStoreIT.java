package io.keyrelay.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayProcess;
import java.io.IOException;
import java.io.Reader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store as another local user would find it, with real keyrelay processes: {@code data/} and every
 * file in it readable by keyrelay's user only, H2's AUTO_SERVER listening on loopback alone, and H2's default login
 * ({@code sa}, empty password) refused — also for a store made before, which keyrelay moves to a password of its
 * own on its first start.
 */
class EmbeddedStoreIT {
    @TempDir
    Path dir;

    private static final String NO_PASSWORD = "";

    @Test
    void devMode_keepsDataPrivate_servesTheStoreOnLoopbackOnly_andRefusesTheDefaultLogin() throws Exception {
        int port = FreePorts.pick();
        Map<String, String> env = Map.of("KEYRELAY_SMTP_PORT", Integer.toString(port), "KEYRELAY_ADMIN_PORT", "0");
        try (RelayProcess dev = RelayProcess.start(dir, List.of(), env, "dev")) {
            dev.awaitLine(l -> l.contains("Stop with Ctrl-C."), Duration.ofSeconds(60));
            Matcher m = Pattern.compile("(?m)^ {4}([0-9a-f]{40})$").matcher(String.join("\n", dev.stdout()));
            assertThat(m.find()).isTrue();
            try (RawSmtpClient c = RawSmtpClient.connect("127.0.0.1", port, "127.0.0.1")) { // a file in the outbox
                c.expect(220);
                c.ehlo();
                c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", m.group(1))).assertCode(235);
                c.send("a@example.com", List.of("b@example.com"), "Subject: s\r\n\r\nx\r\n".getBytes()).assertCode(250);
            }
            Path data = dir.resolve("data");
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                try (Stream<Path> files = Files.list(data.resolve("outbox"))) {
                    return files.anyMatch(p -> p.toString().endsWith(".eml"));
                }
            });
            assertEverythingPrivate(data);
            assertThat(data.resolve("dev-tls/key.pem")).exists();
            assertThat(data.resolve("keyrelay.lock.db")).exists();

            // The lock file says where the AUTO_SERVER listens: loopback, and nowhere else.
            Properties lock = new Properties();
            try (Reader r = Files.newBufferedReader(data.resolve("keyrelay.lock.db"), StandardCharsets.ISO_8859_1)) {
                lock.load(r);
            }
            String server = lock.getProperty("server");
            assertThat(server).matches("(127\\.0\\.0\\.1|localhost):\\d+"); // H2 writes loopback as localhost
            int h2Port = Integer.parseInt(server.substring(server.indexOf(':') + 1));
            assertThat(listeners(h2Port)).as("listening sockets on port %d", h2Port).isNotEmpty()
                    .containsOnly("127.0.0.1"); // not 0.0.0.0, not ::
            for (InetAddress other : nonLoopbackAddresses()) {
                try (Socket s = new Socket()) {
                    assertThatThrownBy(() -> s.connect(new InetSocketAddress(other, h2Port), 2000))
                            .as("connecting on %s", other).isInstanceOf(IOException.class);
                }
            }

            // H2's default login is refused; the per-install password works (as the CLI uses it, below).
            String url = "jdbc:h2:file:" + data.resolve("keyrelay").toAbsolutePath() + ";AUTO_SERVER=TRUE";
            assertThatThrownBy(() -> DriverManager.getConnection(url, "sa", NO_PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(28000));
            assertThat(countKeys(url, password(data))).isEqualTo(1);
            try (RelayProcess cli = RelayProcess.start(dir, List.of(), Map.of(), "keys", "list")) {
                assertThat(cli.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(cli.process().exitValue()).as(String.join("\n", cli.stderr())).isZero();
            }
            dev.terminate(Duration.ofSeconds(30));
        }
    }

    @Test
    void aStoreMadeWithTheDefaultLogin_isMovedToAPasswordOfItsOwn_onTheFirstStart() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        String file = "jdbc:h2:file:" + data.resolve("keyrelay").toAbsolutePath();
        // As keyrelay made it before: its schema, under H2's default login.
        org.flywaydb.core.Flyway.configure().dataSource(file, "sa", NO_PASSWORD).locations("classpath:db/migration").target("2")
                .load().migrate();
        try (Connection c = DriverManager.getConnection(file, "sa", NO_PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE left_by_an_old_install (id INT)");
        }
        try (RelayProcess cli = RelayProcess.start(dir, List.of(), Map.of(), "keys", "create", "--label", "after",
                "--grant", "smtp/inject")) {
            assertThat(cli.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(cli.process().exitValue()).as(String.join("\n", cli.stderr())).isZero();
        }
        assertEverythingPrivate(data);
        assertThat(data.resolve(EmbeddedStore.PASSWORD_FILE + ".new")).doesNotExist();
        assertThatThrownBy(() -> DriverManager.getConnection(file, "sa", NO_PASSWORD).close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(28000));
        try (Connection c = DriverManager.getConnection(file, "sa", password(data)); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*) FROM left_by_an_old_install")) {
            assertThat(r.next()).isTrue(); // the same store, with its data
        }
        assertThat(countKeys(file, password(data))).isEqualTo(1);
    }

    private static String password(Path data) throws IOException {
        return Files.readString(data.resolve(EmbeddedStore.PASSWORD_FILE)).strip();
    }

    private static int countKeys(String url, String password) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "sa", password); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*) FROM api_keys")) {
            r.next();
            return r.getInt(1);
        }
    }

    /** {@code data} is 0700, every directory under it 0700 and every file 0600. */
    private static void assertEverythingPrivate(Path data) throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
        try (Stream<Path> all = Files.walk(data)) {
            for (Path p : all.toList()) {
                String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertThat(perms).as("%s", data.relativize(p)).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
            }
        }
    }

    /** The local addresses of listening TCP sockets on {@code port}, from /proc/net/tcp and tcp6. */
    private static List<String> listeners(int port) throws IOException {
        List<String> out = new ArrayList<>();
        String hexPort = String.format(":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) { // 0A: LISTEN
                    String addr = f[1].substring(0, f[1].indexOf(':'));
                    if (addr.length() == 8) {
                        out.add(ipv4(addr));
                    } else if (addr.startsWith("0000000000000000FFFF0000")) { // IPv4-mapped, on a dual-stack socket
                        out.add(ipv4(addr.substring(24)));
                    } else {
                        out.add(addr); // a real IPv6 address: fails the check, as :: would
                    }
                }
            }
        }
        return out;
    }

    private static String ipv4(String littleEndianHex) {
        long v = Long.parseLong(littleEndianHex, 16);
        return (v & 0xff) + "." + ((v >> 8) & 0xff) + "." + ((v >> 16) & 0xff) + "." + ((v >> 24) & 0xff);
    }

    private static List<InetAddress> nonLoopbackAddresses() throws IOException {
        List<InetAddress> out = new ArrayList<>();
        for (NetworkInterface n : NetworkInterface.networkInterfaces().toList()) {
            n.inetAddresses().filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress()).forEach(out::add);
        }
        return out;
    }
}
