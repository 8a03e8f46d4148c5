package io.keyrelay.net;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * An API key's list of allowed source addresses. An empty list allows every address, as SparkPost's
 * {@code valid_ips} does.
 */
public record IpAllowlist(List<IpRange> ranges) {
    public static final IpAllowlist ANY = new IpAllowlist(List.of());

    public IpAllowlist {
        ranges = List.copyOf(new LinkedHashSet<>(ranges));
    }

    /**
     * Parses entries (addresses or CIDR blocks); blank entries are skipped, duplicates dropped.
     *
     * @throws IllegalArgumentException naming every bad entry, so a pasted list is fixed in one go
     */
    public static IpAllowlist parse(Collection<String> entries) {
        List<IpRange> out = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (String e : entries) {
            if (e != null && !e.isBlank()) {
                try {
                    out.add(IpRange.parse(e));
                } catch (IllegalArgumentException x) {
                    bad.add(x.getMessage());
                }
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(bad.size() == 1 ? bad.get(0)
                    : bad.size() + " entries are not valid: " + String.join("; ", bad));
        }
        return new IpAllowlist(out);
    }

    /** Splits on commas, whitespace and newlines, as typed into a form or a CLI flag. */
    public static IpAllowlist parseText(String text) {
        return parse(text == null ? List.of() : List.of(text.split("[,\\s]+")));
    }

    public boolean allowsAny() {
        return ranges.isEmpty();
    }

    /** True if the list is empty or one of its ranges contains the address. */
    public boolean allows(InetAddress address) {
        if (ranges.isEmpty()) {
            return true;
        }
        byte[] bytes = IpLiteral.bytesOf(address);
        for (IpRange r : ranges) {
            if (r.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True if this list allows no address that {@code outer} does not: {@code outer} allows any address, or this
     * list is not empty and each of its blocks lies inside one of {@code outer}'s.
     */
    public boolean within(IpAllowlist outer) {
        if (outer.allowsAny()) {
            return true;
        }
        if (allowsAny()) {
            return false;
        }
        for (IpRange r : ranges) {
            if (outer.ranges.stream().noneMatch(o -> o.contains(r))) {
                return false;
            }
        }
        return true;
    }

    /** The canonical texts of the ranges, in order. */
    public List<String> asStrings() {
        return ranges.stream().map(IpRange::toString).toList();
    }
}
