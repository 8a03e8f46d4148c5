package io.keyrelay.admin;

import io.keyrelay.text.Ascii;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Reads the API key out of an {@code Authorization} header in each form SparkPost's clients send it: the bare
 * key, {@code Bearer <key>} (what Prometheus sends), or Basic authentication with the key as the user name and
 * an empty password.
 */
final class ApiCredentials {
    private ApiCredentials() {}

    /** The presented key, or empty when the header is missing or malformed (the caller answers 401 either way). */
    static Optional<String> fromHeader(String header) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String h = header.strip();
        int space = h.indexOf(' ');
        if (space < 0) {
            // A scheme with nothing after it is no key; anything else without a space is the bare key.
            return Ascii.equalsIgnoreCase(h, "bearer") || Ascii.equalsIgnoreCase(h, "basic") ? Optional.empty()
                    : Optional.of(h);
        }
        String scheme = Ascii.toLowerCase(h.substring(0, space)); // ASCII: no dotless-i "bearer"
        String value = h.substring(space + 1).strip();
        return switch (scheme) {
            case "bearer" -> value.isEmpty() ? Optional.empty() : Optional.of(value);
            case "basic" -> basicUser(value);
            default -> Optional.empty();
        };
    }

    private static Optional<String> basicUser(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        String user = colon < 0 ? decoded : decoded.substring(0, colon);
        return user.isEmpty() ? Optional.empty() : Optional.of(user);
    }
}
