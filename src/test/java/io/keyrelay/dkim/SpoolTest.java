package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
    @TempDir
    Path tmp;

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    @Test
    void smallMessage_staysInMemory_andReadsBackTwice() throws IOException {
        Path dir = tmp.resolve("spool");
        try (Spool s = new Spool(dir, 1024)) {
            s.write(bytes(1000));
            assertThat(s.onDisk()).isFalse();
            try (InputStream a = s.open(); InputStream b = s.open()) {
                assertThat(a.readAllBytes()).isEqualTo(bytes(1000)).isEqualTo(b.readAllBytes());
            }
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void largeMessage_goesToAPrivateFile_withNoNameLeft_andReadsBack() throws IOException {
        Path dir = tmp.resolve("spool");
        byte[] data = bytes(300_000);
        Spool s = new Spool(dir, 64 * 1024);
        for (int i = 0; i < data.length; i += 1000) {
            s.write(data, i, Math.min(1000, data.length - i));
        }
        assertThat(s.onDisk()).isTrue();
        assertThat(s.size()).isEqualTo(data.length);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).as("the file is unlinked while open").isEmpty();
        }
        try (InputStream in = s.open()) {
            byte[] first = in.readNBytes(10);
            assertThat(first).isEqualTo(Arrays.copyOf(data, 10));
            assertThat(in.read()).isEqualTo(data[10] & 0xff);
            assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(data, 11, data.length));
        }
        s.close();
        assertThatThrownBy(s::open).isInstanceOf(IOException.class);
    }
}
