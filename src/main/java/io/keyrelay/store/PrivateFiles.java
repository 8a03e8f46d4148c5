package io.keyrelay.store;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories that only keyrelay's own user may read: {@code data_dir} and everything keyrelay writes
 * there (the embedded database and its password, dev mode's TLS key and certificate, dev mode's outbox).
 * Directories are {@code 0700} and files {@code 0600}, set when they are created where Java allows it (so there is
 * no moment when they are readable) and narrowed afterwards where another program made them (H2's own files).
 *
 * <p>On a file system without POSIX permissions (Windows) nothing is changed: there the directory's ACLs, which
 * the installer sets, decide.
 */
public final class PrivateFiles {
    static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private PrivateFiles() {}

    /**
     * Creates {@code dir} and any missing parents as {@code 0700}, and narrows {@code dir} itself to {@code 0700}
     * if it already existed (an install from before keyrelay did this, or a directory made by hand).
     */
    public static Path directory(Path dir) throws IOException {
        Path d = dir.toAbsolutePath().normalize();
        if (!posix(d)) {
            return Files.createDirectories(d);
        }
        if (Files.isDirectory(d)) {
            narrow(d, DIRECTORY);
            return d;
        }
        Path parent = d.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            directory(parent);
        }
        try {
            Files.createDirectory(d, attribute(DIRECTORY));
        } catch (FileAlreadyExistsException e) {
            narrow(d, DIRECTORY); // made at the same moment by another process
        }
        return d;
    }

    /** Narrows an existing file (or directory) to {@code 0600} ({@code 0700}); false if that is not possible. */
    public static boolean narrow(Path path) {
        return narrow(path, Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? DIRECTORY : FILE);
    }

    private static boolean narrow(Path path, Set<PosixFilePermission> perms) {
        try {
            if (!Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS).equals(perms)) {
                Files.setPosixFilePermissions(path, perms);
            }
            return true;
        } catch (UnsupportedOperationException | IOException e) {
            return false;
        }
    }

    /** Writes {@code content} to {@code file} through a {@code 0600} temporary file moved into place. */
    public static void write(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = posix(dir) ? Files.createTempFile(dir, ".tmp", ".part", attribute(FILE))
                : Files.createTempFile(dir, ".tmp", ".part");
        try {
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static boolean posix(Path p) {
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing != null && Files.getFileAttributeView(existing,
                java.nio.file.attribute.PosixFileAttributeView.class) != null;
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> perms) {
        return PosixFilePermissions.asFileAttribute(perms);
    }
}
