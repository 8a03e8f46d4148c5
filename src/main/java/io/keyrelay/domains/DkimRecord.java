package io.keyrelay.domains;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A DKIM key record's tags (RFC 6376 §3.6.1): {@code tag=value} pairs separated by {@code ;}, whitespace around and
 * inside {@code p=} (base64 may be folded) ignored. Only what verification needs is read: {@code v}, {@code k}
 * (default {@code rsa}) and {@code p}.
 */
record DkimRecord(String keyType, String publicKey) {

    /** The record in {@code text}, or empty when it is not a DKIM key record (another TXT at the name). */
    static Optional<DkimRecord> parse(String text) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (String part : text.split(";")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                if (!part.isBlank()) {
                    return Optional.empty();
                }
                continue;
            }
            tags.putIfAbsent(part.substring(0, eq).strip().toLowerCase(Locale.ROOT), part.substring(eq + 1).strip());
        }
        String v = tags.get("v");
        if (v != null && (!v.equals("DKIM1") || !tags.keySet().iterator().next().equals("v"))) {
            return Optional.empty(); // v=, when present, must come first and be DKIM1 (§3.6.1)
        }
        String p = tags.get("p");
        if (p == null) {
            return Optional.empty();
        }
        String k = tags.getOrDefault("k", "rsa").toLowerCase(Locale.ROOT);
        return Optional.of(new DkimRecord(k, p.replaceAll("\\s+", "")));
    }

    /** True if this record publishes {@code key}: the same key type and the same public key. */
    boolean publishes(DkimKey key) {
        return keyType.equals(key.algorithm().keyType()) && publicKey.equals(key.publicKey());
    }
}
