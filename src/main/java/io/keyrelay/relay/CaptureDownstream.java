package io.keyrelay.relay;

import io.keyrelay.store.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dev mode's downstream: every message becomes one {@code .eml} file in a folder, holding exactly the bytes that
 * would have been relayed (keyrelay's Received header, then the client's message). Files appear atomically, so
 * a reader never sees half a message. Every recipient is accepted.
 */
public final class CaptureDownstream implements Downstream {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private final Path folder;
    private final Clock clock;
    private final AtomicLong sequence = new AtomicLong();

    public CaptureDownstream(Path folder, Clock clock) {
        this.folder = folder.toAbsolutePath().normalize();
        this.clock = clock;
        try {
            PrivateFiles.directory(this.folder); // 0700; each message is a createTempFile (0600) moved in
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the capture folder " + this.folder + ": " + e.getMessage(), e);
        }
    }

    public Path folder() {
        return folder;
    }

    @Override
    public Transaction begin(String sender, MailParams params) {
        return new Transaction() {
            @Override
            public Reply recipient(String address) {
                return new Reply(250, "2.1.5 Ok");
            }

            @Override
            public Reply data(byte[] prefix, InputStream content) throws IOException, DownstreamException {
                Path tmp = Files.createTempFile(folder, ".incoming-", ".tmp");
                try {
                    try (OutputStream out = Files.newOutputStream(tmp)) {
                        out.write(prefix);
                        content.transferTo(out);
                    }
                    String name = STAMP.format(clock.instant()) + "-" + sequence.incrementAndGet() + ".eml";
                    Files.move(tmp, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
                    return new Reply(250, "2.0.0 Ok: saved as " + name);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }

            @Override
            public void abort() {}

            @Override
            public void close() {}
        };
    }

    @Override
    public String describe() {
        return "capture:" + folder;
    }

    @Override
    public void close() {}
}
