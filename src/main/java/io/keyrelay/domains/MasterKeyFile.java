package io.keyrelay.domains;

import io.keyrelay.store.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Dev mode's {@code dkim.master_key}: kept in {@code data_dir/dkim-master.key} ({@code 0600}), made on first start,
 * and read by CLI commands run against the same data directory. {@code serve} never reads it: there the key is
 * configured, so that it can live in a secret store rather than beside the database it protects.
 */
public final class MasterKeyFile {
    public static final String NAME = "dkim-master.key";

    private MasterKeyFile() {}

    public static Path in(Path dataDir) {
        return dataDir.resolve(NAME);
    }

    /** The key in {@code file}, if the file exists. */
    public static Optional<String> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        MasterKey.parse(text); // a damaged file is reported here, not when a key is first sealed
        return Optional.of(text);
    }

    /** The key in {@code file}, made now (a new random key, {@code 0600}) if there is none. */
    public static String readOrCreate(Path file) throws IOException {
        Optional<String> existing = read(file);
        if (existing.isPresent()) {
            return existing.get();
        }
        String encoded = MasterKey.generate().encoded();
        PrivateFiles.write(file, (encoded + "\n").getBytes(StandardCharsets.US_ASCII));
        return encoded;
    }
}
