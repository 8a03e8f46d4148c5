package io.keyrelay.config;

import java.util.regex.Pattern;

/** Masking of secrets for anything printed or logged. */
public final class Secrets {
    public static final String MASK = "****";
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");
    private static final Pattern URL_USERINFO = Pattern.compile("(//[^/:@]+:)[^@/]*@");

    private Secrets() {}

    /** {@code ****} for a non-empty secret, the empty string for an unset one. */
    public static String mask(String secret) {
        return secret == null || secret.isEmpty() ? "" : MASK;
    }

    /** Hides a password given inside a JDBC URL ({@code ?password=…} or {@code //user:pw@host}). */
    public static String maskUrl(String url) {
        if (url == null) {
            return null;
        }
        String s = URL_PASSWORD.matcher(url).replaceAll("$1" + MASK);
        return URL_USERINFO.matcher(s).replaceAll("$1" + MASK + "@");
    }
}
