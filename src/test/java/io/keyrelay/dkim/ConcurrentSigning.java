package io.keyrelay.dkim;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.conscrypt.Conscrypt;

/**
 * Signs one message many times at once with {@link DkimSigner#preferred}'s RSA key — on OpenSSL's libcrypto when
 * run from the jar on Java 22+ — and compares every signature with Conscrypt's: RSA PKCS#1 v1.5 signatures are
 * deterministic, so with a fixed clock each one must be byte-for-byte the same. Run by {@link DkimVerifyIT} in a
 * JVM of its own. Arguments: {@code PKCS8_RSA_KEY_FILE}. Prints {@code identical=N of M} and where it signed.
 */
public final class ConcurrentSigning {
    private ConcurrentSigning() {}

    public static void main(String[] args) throws Exception {
        Clock clock = Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC);
        SigningKey key = new SigningKey("example.com", "rsa1", KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(Path.of(args[0])))));
        MessageScan message = new MessageScan();
        message.write("From: a@example.com\r\nSubject: same every time\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII));
        message.finish();
        DkimSigner reference = new DkimSigner(clock, Conscrypt.newProvider());
        byte[] expected = reference.sign(message, List.of(reference.importKey(key)));
        DkimSigner signer = DkimSigner.preferred(clock);
        List<SigningKey> keys = List.of(signer.importKey(key));
        int threads = 8;
        int each = 100;
        AtomicInteger identical = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                work.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        if (Arrays.equals(signer.sign(message, keys), expected)) {
                            identical.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(120, TimeUnit.SECONDS);
            }
        }
        System.out.println("signer=" + signer.providerName());
        System.out.println("identical=" + identical.get() + " of " + threads * each);
    }
}
