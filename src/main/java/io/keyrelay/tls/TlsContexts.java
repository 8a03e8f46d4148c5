package io.keyrelay.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Builds {@link SSLContext}s from PEM files: a server context from a certificate chain and its private key (RSA or
 * EC, PKCS#1 {@code BEGIN RSA/EC PRIVATE KEY} or PKCS#8 {@code BEGIN PRIVATE KEY}), and a client context that trusts
 * either the JVM's default CAs or those of a PEM file. Parsing is BouncyCastle's; the JSSE provider stays the JDK's.
 */
public final class TlsContexts {
    /** The protocols keyrelay speaks, on every listener and to the downstream. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsContexts() {}

    /** Thrown for unusable TLS material; the message names the file and what is wrong with it. */
    public static final class TlsMaterialException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TlsMaterialException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A server context for the given PEM certificate chain and private key. */
    public static SSLContext server(Path certFile, Path keyFile) {
        return context(identity(read(certFile), certFile.toString(), read(keyFile), keyFile.toString()).keyManager());
    }

    /** A server context whose certificate comes from {@code keys} (which may change what it serves). */
    static SSLContext context(X509ExtendedKeyManager keys) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new KeyManager[] {keys}, null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /** A certificate chain (leaf first) and the JDK key manager that serves it with its private key. */
    record Identity(List<X509Certificate> chain, X509ExtendedKeyManager keyManager) {
        X509Certificate leaf() {
            return chain.get(0);
        }
    }

    /**
     * The identity in PEM text: a certificate chain and its private key, checked to belong together. The names are
     * the files', for messages.
     */
    static Identity identity(byte[] certPem, String certName, byte[] keyPem, String keyName) {
        List<X509Certificate> chain = readCertificates(certPem, certName);
        if (chain.isEmpty()) {
            throw new TlsMaterialException(certName + ": no certificate found (expected BEGIN CERTIFICATE)", null);
        }
        PrivateKey key = readPrivateKey(keyPem, keyName);
        if (!matches(chain.get(0), key)) {
            throw new TlsMaterialException(keyName + ": private key does not belong to the certificate in " + certName,
                    null);
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] password = new char[0];
            ks.setKeyEntry("keyrelay", key, password, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            for (KeyManager km : kmf.getKeyManagers()) {
                if (km instanceof X509ExtendedKeyManager x) {
                    return new Identity(List.copyOf(chain), x);
                }
            }
            throw new TlsMaterialException("the JDK offers no X509 key manager", null);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot build a TLS context from " + certName + " and " + keyName + ": "
                    + e.getMessage(), e);
        }
    }

    /** The bytes of a file; a missing or unreadable file is a {@link TlsMaterialException} naming it. */
    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file + ": no such file", e);
        } catch (IOException e) {
            throw new TlsMaterialException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** A client context trusting the CAs in {@code caFile}, or the JVM's defaults when it is null. */
    public static SSLContext client(Path caFile) {
        return client(caFile, TlsProvider.JDK);
    }

    /** {@link #client(Path)} on the given TLS implementation. */
    public static SSLContext client(Path caFile, TlsProvider provider) {
        try {
            SSLContext ctx = instance(provider);
            if (caFile == null) {
                ctx.init(null, null, null);
                return ctx;
            }
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (X509Certificate c : readCertificates(caFile)) {
                ts.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new TlsMaterialException(caFile + ": no certificate found (expected BEGIN CERTIFICATE)", null);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot build a TLS client context: " + e.getMessage(), e);
        }
    }

    /**
     * A client context that accepts any certificate: for a downstream the operator chose not to verify
     * ({@code downstream.tls_verify: false}) and for the load generator against a loopback target with a self-signed
     * certificate. Never the default.
     */
    public static SSLContext trustingAnyCertificate() {
        return trustingAnyCertificate(TlsProvider.JDK);
    }

    /** {@link #trustingAnyCertificate()} on the given TLS implementation. */
    public static SSLContext trustingAnyCertificate(TlsProvider provider) {
        try {
            SSLContext ctx = instance(provider);
            ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                    // a client context: never asked
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // deliberately unverified: see the method's documentation
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SSLContext instance(TlsProvider provider) throws GeneralSecurityException {
        Provider p = provider.provider();
        return p == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", p);
    }

    static List<X509Certificate> readCertificates(Path file) {
        return readCertificates(read(file), file.toString());
    }

    static List<X509Certificate> readCertificates(byte[] pem, String name) {
        try (var in = new ByteArrayInputStream(pem)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : all) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsMaterialException(name + ": not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    static PrivateKey readPrivateKey(byte[] pem, String name) {
        try (Reader r = new InputStreamReader(new ByteArrayInputStream(pem), StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(r)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) { // PKCS#1 RSA or SEC1 EC (the public part may be absent)
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) { // PKCS#8
                    return converter.getPrivateKey(info);
                }
            }
            throw new TlsMaterialException(name + ": no private key found (expected BEGIN PRIVATE KEY,"
                    + " BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY; encrypted keys are not supported)", null);
        } catch (IOException | RuntimeException e) {
            if (e instanceof TlsMaterialException t) {
                throw t;
            }
            throw new TlsMaterialException(name + ": not a PEM private key: " + e.getMessage(), e);
        }
    }

    private static boolean matches(X509Certificate cert, PrivateKey key) {
        // Sign and verify a probe: works for RSA and EC alike without reaching into key internals.
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> null;
        };
        if (alg == null) {
            return true; // let the TLS handshake judge other key types
        }
        try {
            byte[] probe = "keyrelay".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            java.security.Signature v = java.security.Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
