package io.keyrelay.dkim;

import io.keyrelay.tls.TlsProvider;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes the {@code DKIM-Signature} fields (RFC 6376, RFC 8463) of a message that a {@link MessageScan} has read:
 * {@code c=relaxed/relaxed}, the body hash from the scan, the header fields of {@link #SIGNED_FIELDS} that are
 * present, {@code From} over-signed, and a {@code t=} timestamp. Exactly one private-key operation per key.
 *
 * <p>The fields are returned as bytes to put on top of the message, before its own first byte: the client's bytes
 * are never changed, so its own DKIM signatures stay valid. Thread-safe; one instance serves the relay.
 */
public final class DkimSigner {
    /**
     * The header fields signed when present, in the order of the {@code h=} tag. Each is signed as many times as
     * it occurs; {@code From} once more (an over-signed, absent instance, RFC 6376 section 8.15), so a second
     * {@code From:} added in transit breaks the signature.
     */
    public static final List<String> SIGNED_FIELDS = List.of("from", "sender", "reply-to", "subject", "date",
            "message-id", "to", "cc", "mime-version", "content-type", "content-transfer-encoding", "in-reply-to",
            "references", "list-unsubscribe", "list-unsubscribe-post");

    private static final int LINE = 76;

    private final Clock clock;
    private final Provider provider;
    private final boolean nativeRsa;

    /**
     * A signer whose private-key operations run on {@code provider} (for example Conscrypt), or on the JDK's
     * providers when it is null.
     */
    public DkimSigner(Clock clock, Provider provider) {
        this(clock, provider, false);
    }

    private DkimSigner(Clock clock, Provider provider, boolean nativeRsa) {
        this.clock = clock;
        this.provider = provider;
        this.nativeRsa = nativeRsa;
    }

    /** A signer on the JDK's own providers. */
    public DkimSigner(Clock clock) {
        this(clock, null);
    }

    /**
     * The signer the relay uses, chosen by the numbers (BENCHMARKS.md, "DKIM"; the private-key operation is what
     * limits a signing relay): RSA on the system's OpenSSL 3 {@code libcrypto} where keyrelay runs on Java 22+ from
     * its jar and the library is there (2.2 times Conscrypt's rate on the project's machine); everything else, and
     * RSA otherwise, on Conscrypt (BoringSSL) where its native library loads (1.8 times the JDK's rate for RSA, 30
     * times for Ed25519); else on the JDK.
     */
    public static DkimSigner preferred(Clock clock) {
        Provider p;
        try {
            p = TlsProvider.CONSCRYPT.provider();
        } catch (IllegalStateException unavailable) {
            p = null;
        }
        return new DkimSigner(clock, p, NativeRsa.available());
    }

    /** Where the signatures are made, for the start-up log: {@code OpenSSL 3.0.19 … (RSA), Conscrypt}, {@code JDK}. */
    public String providerName() {
        String name = provider == null ? "JDK" : provider.getName();
        return nativeRsa ? NativeRsa.describe() + " (RSA), " + name : name;
    }

    /**
     * {@code key} with its private key imported into this signer's provider, so that no message pays for
     * converting it. Call once, when a key is loaded; signing works with an unimported key too, only slower.
     *
     * @throws DkimException if the provider cannot take the key
     */
    public SigningKey importKey(SigningKey key) throws DkimException {
        if (nativeRsa && key.algorithm() == SigningAlgorithm.RSA_SHA256) {
            return new SigningKey(key.domain(), key.selector(), NativeRsa.load(key.privateKey()));
        }
        if (provider == null) {
            return key;
        }
        try {
            PrivateKey k = KeyFactory.getInstance(key.algorithm().keyAlgorithm(), provider)
                    .generatePrivate(new PKCS8EncodedKeySpec(key.privateKey().getEncoded()));
            return new SigningKey(key.domain(), key.selector(), k);
        } catch (GeneralSecurityException e) {
            throw new DkimException("the " + key.algorithm().tag() + " key of " + key.domain() + " (selector "
                    + key.selector() + ") cannot be used by " + provider.getName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The {@code DKIM-Signature} fields for {@code message}, one per key in the order given, each ending in CRLF.
     *
     * @param message a finished scan
     * @throws DkimException if the header block was over its bound, or a key cannot sign
     */
    public byte[] sign(MessageScan message, List<SigningKey> keys) throws DkimException {
        HeaderBlock headers = message.headers();
        if (headers.truncated()) {
            throw new DkimException("the header block is too large to be signed", null);
        }
        List<String> h = headerList(headers);
        byte[] signedHeaders = signedHeaderData(headers, h);
        String bh = Base64.getEncoder().encodeToString(message.bodyHash());
        long t = clock.instant().getEpochSecond();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (SigningKey key : keys) {
            out.writeBytes(field(key, h, bh, t, signedHeaders).getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /** The {@code h=} names: each signed field as often as it occurs, and {@code from} once more. */
    static List<String> headerList(HeaderBlock headers) {
        Map<String, Integer> counts = new HashMap<>();
        for (HeaderField f : headers.fields()) {
            counts.merge(f.lowerName(), 1, Integer::sum);
        }
        List<String> h = new ArrayList<>();
        for (String name : SIGNED_FIELDS) {
            int n = counts.getOrDefault(name, 0) + (name.equals("from") ? 1 : 0);
            for (int i = 0; i < n; i++) {
                h.add(name);
            }
        }
        return h;
    }

    /**
     * The canonical header fields named by {@code h}, each name taking its instances from the bottom up (RFC 6376
     * section 5.4.2); a name with no instance left contributes nothing.
     */
    static byte[] signedHeaderData(HeaderBlock headers, List<String> h) {
        Map<String, List<HeaderField>> byName = new HashMap<>();
        for (HeaderField f : headers.fields()) {
            byName.computeIfAbsent(f.lowerName(), k -> new ArrayList<>()).add(f);
        }
        Map<String, Integer> used = new HashMap<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        for (String name : h) {
            List<HeaderField> instances = byName.getOrDefault(name, List.of());
            int u = used.merge(name, 1, Integer::sum);
            if (u <= instances.size()) {
                RelaxedHeader.append(instances.get(instances.size() - u), out);
            }
        }
        return out.toByteArray();
    }

    private String field(SigningKey key, List<String> h, String bh, long t, byte[] signedHeaders) throws DkimException {
        SigningAlgorithm alg = key.algorithm();
        StringBuilder f = new StringBuilder(512).append("DKIM-Signature:");
        for (String tag : List.of("v=1;", "a=" + alg.tag() + ";", "c=relaxed/relaxed;", "d=" + key.domain() + ";",
                "s=" + key.selector() + ";", "t=" + t + ";")) {
            f.append(fold(f, tag.length() + 1) ? "" : " ").append(tag);
        }
        f.append(fold(f, 3 + h.get(0).length()) ? "h=" : " h=");
        for (int i = 0; i < h.size(); i++) {
            String name = h.get(i) + (i < h.size() - 1 ? ":" : ";");
            if (column(f) + name.length() > LINE) {
                f.append("\r\n\t"); // FWS after a colon of h= (RFC 6376 section 3.5); signed as it is sent
            }
            f.append(name);
        }
        f.append("\r\n\tbh=").append(bh).append(";\r\n\tb=");
        String unsigned = f.toString();
        byte[] b = signature(key, alg, signedHeaders, unsigned);
        String b64 = Base64.getEncoder().encodeToString(b);
        for (int i = 0; i < b64.length(); i += LINE - 4) {
            if (i > 0) {
                f.append("\r\n\t"); // FWS inside b= is removed with its value before verifying
            }
            f.append(b64, i, Math.min(b64.length(), i + LINE - 4));
        }
        return f.append("\r\n").toString();
    }

    /**
     * Starts a continuation line (CRLF TAB, which relaxed canonicalisation reads as one SP) if {@code more}
     * characters would not fit on this one; returns whether it did.
     */
    private static boolean fold(StringBuilder f, int more) {
        if (column(f) + more <= LINE) {
            return false;
        }
        f.append("\r\n\t");
        return true;
    }

    private static int column(StringBuilder f) {
        return f.length() - (f.lastIndexOf("\n") + 1);
    }

    /** The one private-key operation: over the signed fields and this field with an empty {@code b=}. */
    private byte[] signature(SigningKey key, SigningAlgorithm alg, byte[] signedHeaders, String unsignedField)
            throws DkimException {
        ByteArrayOutputStream data = new ByteArrayOutputStream(signedHeaders.length + 512);
        data.writeBytes(signedHeaders);
        RelaxedHeader.appendWithoutCrlf(HeaderField.of(unsignedField.getBytes(StandardCharsets.US_ASCII)), data);
        if (key.privateKey() instanceof NativeRsa.NativeKey n) {
            return n.signSha256(data.toByteArray());
        }
        try {
            Signature s = provider == null ? Signature.getInstance(alg.jcaSignature())
                    : Signature.getInstance(alg.jcaSignature(), provider);
            s.initSign(key.privateKey());
            if (alg == SigningAlgorithm.ED25519_SHA256) {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                s.update(sha.digest(data.toByteArray()));
            } else {
                s.update(data.toByteArray());
            }
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new DkimException("the " + alg.tag() + " key of " + key.domain() + " (selector " + key.selector()
                    + ") cannot sign: " + e.getMessage(), e);
        }
    }
}
