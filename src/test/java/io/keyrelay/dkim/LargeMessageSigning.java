package io.keyrelay.dkim;

import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs one large generated message the way passthrough mode does — streamed through a {@link MessageScan} into
 * a {@link Spool}, signed, and written out as signature fields plus the spooled bytes — in a JVM of its own, which
 * {@link DkimVerifyIT} starts with a small heap ({@code -Xmx64m}): a signer that held the message in memory would
 * die there with an OutOfMemoryError.
 *
 * <p>Arguments: {@code OUT MEGABYTES SPOOL_DIR (DOMAIN SELECTOR PKCS8_FILE ALGORITHM)...}. Signs with
 * {@link DkimSigner#preferred}; prints where it signed and the heap's peak use.
 */
public final class LargeMessageSigning {
    private LargeMessageSigning() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        long bytes = Long.parseLong(args[1]) * 1024 * 1024;
        DkimSigner signer = DkimSigner.preferred(Clock.systemUTC());
        List<SigningKey> keys = new ArrayList<>();
        for (int i = 3; i + 3 < args.length; i += 4) {
            byte[] der = Files.readAllBytes(Path.of(args[i + 2]));
            keys.add(signer.importKey(new SigningKey(args[i], args[i + 1],
                    KeyFactory.getInstance(args[i + 3]).generatePrivate(new PKCS8EncodedKeySpec(der)))));
        }
        System.out.println("signer=" + signer.providerName());
        try (Spool spool = new Spool(Path.of(args[2]), 4 * 1024 * 1024)) {
            MessageScan scan = new MessageScan(HeaderBlock.DEFAULT_MAX_BYTES, spool);
            scan.write(("From: Big <big@example.com>\r\nTo: r@example.org\r\nSubject: fifty megabytes\r\n"
                    + "Message-ID: <big@example.com>\r\nMIME-Version: 1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = chunk();
            for (long written = 0; written < bytes; written += chunk.length) {
                scan.write(chunk);
            }
            scan.finish();
            byte[] signature = signer.sign(scan, keys);
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 65536);
                    InputStream in = spool.open()) {
                o.write(signature);
                in.transferTo(o);
            }
            System.out.println("spooled_on_disk=" + spool.onDisk() + " size=" + spool.size());
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.println("heap_peak_bytes=" + peak);
    }

    /** 64 KiB of body lines: text, trailing and inner whitespace runs, dot-leading lines, blank lines. */
    private static byte[] chunk() {
        StringBuilder b = new StringBuilder(70_000);
        int line = 0;
        while (b.length() < 64 * 1024) {
            switch (line++ % 5) {
                case 0 -> b.append("The quick brown fox jumps over the lazy dog ").append(line).append("  \t\r\n");
                case 1 -> b.append(".a line that began with a dot, unstuffed\r\n");
                case 2 -> b.append("\r\n");
                case 3 -> b.append("wide \t\t  gaps   here\r\n");
                default -> b.append("0123456789".repeat(7)).append("\r\n");
            }
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
