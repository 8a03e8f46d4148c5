package io.keyrelay.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded H2 key store's protection: where its files live, who may read them, and the password it opens with.
 *
 * <ul>
 *   <li>{@code data_dir} is {@code 0700}, and H2's files in it ({@code keyrelay.mv.db}, the lock file
 *       {@code keyrelay.lock.db}, which holds the address and key of its AUTO_SERVER) are narrowed to {@code 0600}
 *       once H2 has made them. H2's temporary files are made by {@code Files.createTempFile}, {@code 0600}
 *       already; it writes no trace file ({@code TRACE_LEVEL_FILE=0}: its errors reach keyrelay's log through the
 *       exceptions they cause).</li>
 *   <li>The database's password is a random one per install, in {@code data_dir/h2.password} ({@code 0600}),
 *       made on first start. A store made by an older keyrelay, with H2's default {@code sa} and an empty
 *       password, is moved to it on the first start that finds no password file — so the default login is refused
 *       from then on.</li>
 *   <li>The AUTO_SERVER that lets {@code keyrelay keys …} reach the store while the relay runs listens on
 *       127.0.0.1 only ({@code h2.bindAddress}, which {@link Database} sets before H2 loads).</li>
 * </ul>
 */
final class EmbeddedStore {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);
    static final String USER = "sa";
    static final String PASSWORD_FILE = "h2.password";
    private static final String DB_NAME = "keyrelay";
    /** H2's {@code ErrorCode.WRONG_USER_OR_PASSWORD}. */
    private static final int WRONG_USER_OR_PASSWORD = 28000;

    private EmbeddedStore() {}

    /** The store's directory, made private; its JDBC URL. */
    static String prepare(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        try {
            PrivateFiles.directory(dir);
        } catch (IOException e) {
            throw new StoreException("data_dir: cannot create " + dir + ": " + e.getMessage(), e);
        }
        // TRACE_LEVEL_FILE=0: no keyrelay.trace.db, which H2 would create later, readable by anyone its umask lets.
        // WRITE_DELAY=0: H2 writes each commit to the file before the commit returns. With its default (500 ms) a
        // commit sits in memory for up to half a second, and a kill -9 right after a queue-mode 250 loses the
        // message (checked: 100 committed rows, Runtime.halt, none left). The write reaches the OS, not the disk:
        // it survives the process, not a power loss (docs/queue.md).
        return "jdbc:h2:file:" + dir.resolve(DB_NAME) + ";AUTO_SERVER=TRUE;TRACE_LEVEL_FILE=0;WRITE_DELAY=0";
    }

    /**
     * The per-install password, made on first use; an existing store still on H2's default empty password is
     * moved to it here, before anything else opens the store. Crash-safe without a connection on every start: the
     * new password is written to {@code h2.password.new} first, set in the store, and only then renamed to
     * {@code h2.password}; a start that finds {@code .new} finishes the move.
     */
    static String password(Path dataDir, String url) {
        Path dir = dataDir.toAbsolutePath().normalize();
        Path file = dir.resolve(PASSWORD_FILE);
        Path pending = dir.resolve(PASSWORD_FILE + ".new");
        String password = readPassword(file);
        if (password != null) {
            PrivateFiles.narrow(file);
            return password;
        }
        password = readPassword(pending);
        if (password == null) {
            password = newPassword();
            boolean existing = Files.exists(dir.resolve(DB_NAME + ".mv.db"));
            write(existing ? pending : file, password);
            if (!existing) {
                return password; // H2 makes the store, with this password, on the first connection
            }
        }
        moveToPassword(url, password);
        try {
            Files.move(pending, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new StoreException("cannot rename " + pending + " to " + file + ": " + e.getMessage(), e);
        }
        log.info("embedded store: H2's default empty credentials replaced by per-install ones kept in {}", file);
        return password;
    }

    /** Sets {@code password} in the store unless it has it already; refuses to go on if neither opens it. */
    private static void moveToPassword(String url, String password) {
        try (Connection c = DriverManager.getConnection(url, USER, password)) {
            if (c.isValid(2)) {
                return; // done before a crash that left the pending file
            }
        } catch (SQLException e) {
            if (e.getErrorCode() != WRONG_USER_OR_PASSWORD) {
                throw new StoreException("cannot open the embedded store to set its password", e);
            }
        }
        try (Connection c = DriverManager.getConnection(url, USER, "");
                Statement st = c.createStatement()) {
            st.execute("ALTER USER " + USER + " SET PASSWORD '" + password + "'"); // base64url: nothing to quote
        } catch (SQLException e) {
            throw new StoreException("cannot set the embedded store's password: it opens neither with the one in "
                    + PASSWORD_FILE + ".new nor with H2's default", e);
        }
    }

    private static void write(Path file, String password) {
        try {
            PrivateFiles.write(file, (password + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new StoreException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Narrows H2's files in {@code data_dir} ({@code keyrelay.*}) and the password file to {@code 0600}. */
    static void narrowFiles(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, DB_NAME + ".*")) {
            for (Path f : files) {
                PrivateFiles.narrow(f);
            }
        } catch (IOException e) {
            log.warn("cannot narrow the permissions of the embedded store's files in {}: {}", dir, e.getMessage());
        }
        PrivateFiles.narrow(dir.resolve(PASSWORD_FILE));
    }

    private static String readPassword(Path file) {
        try {
            String p = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (p.isEmpty() || !p.matches("[A-Za-z0-9_-]+")) {
                throw new StoreException(file + " does not hold a password written by keyrelay; remove it only if the"
                        + " store has none (a store made by keyrelay before 0.2)", null);
            }
            return p;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StoreException("cannot read " + file + " (the embedded store's password; keyrelay's own user"
                    + " must run this): " + e.getMessage(), e);
        }
    }

    private static String newPassword() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
