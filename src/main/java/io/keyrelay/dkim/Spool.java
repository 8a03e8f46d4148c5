package io.keyrelay.dkim;

import io.keyrelay.store.PrivateFiles;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A message held while its signature is made, for passthrough mode, where the {@code DKIM-Signature} field must
 * reach the downstream before the message it signs: in memory up to a bound, then in a temporary file that only
 * keyrelay's user can read ({@code 0600}, in a {@code 0700} directory).
 *
 * <p>The file is unlinked as soon as it is open (on POSIX systems), so it disappears even if the process is
 * killed; elsewhere it is deleted when the spool is closed. Write the message, call {@link #open()} to read it back
 * (as often as needed, e.g. once per delivery attempt), and {@link #close()} the spool when done.
 */
public final class Spool extends OutputStream {
    private final Path dir;
    private final int memoryLimit;
    private Memory memory;
    private FileChannel file;
    private OutputStream fileOut;
    private long size;
    private boolean closed;

    /**
     * A spool that keeps up to {@code memoryLimit} bytes in memory and spills past that to a file in {@code dir}
     * (created {@code 0700} if missing).
     */
    public Spool(Path dir, int memoryLimit) {
        if (memoryLimit < 0) {
            throw new IllegalArgumentException("memoryLimit: " + memoryLimit + " is negative");
        }
        this.dir = dir;
        this.memoryLimit = memoryLimit;
        // Room for a typical message at once: grown from ByteArrayOutputStream's 32 bytes, a 2 KiB message was
        // copied seven times on the way in (2.7 % of keyrelay's CPU samples in profile D, signed).
        this.memory = new Memory(Math.min(memoryLimit, INITIAL_MEMORY));
    }

    private static final int INITIAL_MEMORY = 8192;

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("the spool is closed");
        }
        if (fileOut == null && memory.size() + len > memoryLimit) {
            spill();
        }
        if (fileOut != null) {
            fileOut.write(b, off, len);
        } else {
            memory.write(b, off, len);
        }
        size += len;
    }

    private void spill() throws IOException {
        Path d = PrivateFiles.directory(dir);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Path path = posix ? Files.createTempFile(d, "spool-", ".eml",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(d, "spool-", ".eml");
        file = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE);
        if (posix) {
            Files.deleteIfExists(path); // the open channel keeps the data; no name is left to find or to leak
        }
        fileOut = new BufferedOutputStream(Channels.newOutputStream(file), 65536);
        memory.writeTo(fileOut);
        memory = new Memory(0);
    }

    /** Bytes written. */
    public long size() {
        return size;
    }

    /** Whether the message went past the memory bound into a file. */
    public boolean onDisk() {
        return file != null;
    }

    /** A stream over everything written so far, from the first byte; independent of other readers. */
    public InputStream open() throws IOException {
        if (closed) {
            throw new IOException("the spool is closed");
        }
        if (fileOut == null) {
            return memory.reader();
        }
        fileOut.flush();
        return new FileReader(file, size);
    }

    /**
     * Moves what was written into a new spool, which the caller now owns, and leaves this one closed and empty
     * (closing it does nothing more): a message held for a check outlives the try-with-resources that wrote it.
     */
    public Spool detach() throws IOException {
        if (closed) {
            throw new IOException("the spool is closed");
        }
        Spool moved = new Spool(dir, memoryLimit);
        moved.memory = memory;
        moved.file = file;
        moved.fileOut = fileOut;
        moved.size = size;
        memory = new Memory(0);
        file = null;
        fileOut = null;
        closed = true;
        return moved;
    }

    /** Drops the spooled message: memory released, file deleted. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            memory = new Memory(0);
            if (file != null) {
                file.close();
            }
        }
    }

    /** A byte buffer that reads back without a copy. */
    private static final class Memory extends ByteArrayOutputStream {
        Memory(int size) {
            super(size);
        }

        InputStream reader() {
            return new ByteArrayInputStream(buf, 0, count);
        }
    }

    /** Positional reads of the spool file, so readers share no position and closing one closes nothing. */
    private static final class FileReader extends InputStream {
        private final FileChannel channel;
        private final long end;
        private long position;

        FileReader(FileChannel channel, long end) {
            this.channel = channel;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (position >= end) {
                return -1;
            }
            int want = (int) Math.min(len, end - position);
            int n = channel.read(ByteBuffer.wrap(b, off, want), position);
            if (n > 0) {
                position += n;
            }
            return n;
        }
    }
}
