package io.keyrelay.testing;

import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Base64;

/** DKIM key material in the forms owners hand over: PEM, and PKCS#1 cut out of a JDK key's PKCS#8 encoding. */
public final class DkimKeys {
    private DkimKeys() {}

    /** {@code der} as a PEM block with {@code label} ({@code PRIVATE KEY}, {@code RSA PRIVATE KEY}, …). */
    public static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /**
     * The PKCS#1 RSAPrivateKey inside an RSA key's PKCS#8 PrivateKeyInfo: the OCTET STRING after the version and
     * the 15-byte rsaEncryption AlgorithmIdentifier (every RSA key of 1024 bits or more has two-byte lengths).
     */
    public static byte[] pkcs1(PrivateKey rsa) {
        byte[] p8 = rsa.getEncoded();
        if (p8[1] != (byte) 0x82 || p8[22] != 0x04 || p8[23] != (byte) 0x82) {
            throw new IllegalArgumentException("not the PKCS#8 layout of an RSA key of 1024 bits or more");
        }
        return Arrays.copyOfRange(p8, 26, p8.length);
    }
}
