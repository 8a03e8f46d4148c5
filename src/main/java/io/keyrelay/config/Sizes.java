package io.keyrelay.config;

import io.keyrelay.text.Ascii;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses byte sizes: {@code 1048576}, {@code 512KB}, {@code 50MiB}, {@code 1GB}. Every unit is binary (KB = 1024 B). */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

    private Sizes() {}

    public static long parse(String text) {
        Matcher m = SIZE.matcher(Ascii.toLowerCase(text.strip())); // ASCII: the Kelvin sign is no k
        if (!m.matches()) {
            throw new IllegalArgumentException("is not a size (examples: 1048576, 512KB, 50MiB, 1GB)");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("is too large");
        }
        String unit = m.group(2) == null ? "b" : m.group(2);
        long factor = switch (unit.charAt(0)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1L;
        };
        if (n > Long.MAX_VALUE / factor) {
            throw new IllegalArgumentException("is too large");
        }
        return n * factor;
    }

    /** Formats in the largest binary unit that divides exactly: {@code 50MiB}, {@code 1536B}. */
    public static String format(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "GiB";
        }
        if (bytes != 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "MiB";
        }
        if (bytes != 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "KiB";
        }
        return bytes + "B";
    }
}
