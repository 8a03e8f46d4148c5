package io.keyrelay.dkim;

import java.security.PrivateKey;

/**
 * RSA signatures on the system's OpenSSL {@code libcrypto}: on Java 22 and newer, through the FFM API, in the
 * multi-release class {@code META-INF/versions/22/io/keyrelay/dkim/NativeRsa.class} of keyrelay's jar. This Java 21
 * version is the fallback, and says it is not there. OpenSSL 3 signs RSA-2048 with AVX-512 IFMA code where the CPU
 * has it, 2.2 times as fast as Conscrypt on the project's machine (BENCHMARKS.md, "DKIM").
 */
final class NativeRsa {
    private NativeRsa() {}

    /** Whether libcrypto can sign here. */
    static boolean available() {
        return false;
    }

    /** The library's name and version, for the start-up log. */
    static String describe() {
        return "unavailable (Java 21)";
    }

    /** {@code key} loaded into libcrypto, as a {@link NativeKey}. */
    static PrivateKey load(PrivateKey key) throws DkimException {
        throw new DkimException("OpenSSL's libcrypto is not available on Java " + Runtime.version().feature(), null);
    }

    /** A private key held by libcrypto: signs SHA-256 with RSA PKCS#1 v1.5 there. */
    interface NativeKey extends PrivateKey {
        byte[] signSha256(byte[] data) throws DkimException;
    }
}
