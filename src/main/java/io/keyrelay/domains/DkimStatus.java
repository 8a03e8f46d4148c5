package io.keyrelay.domains;

import java.util.Locale;

/** Whether a DKIM key's record is published in DNS, as SparkPost's {@code dkim_status} names it. */
public enum DkimStatus {
    /** Not checked yet, or the last check found no record at all. */
    UNVERIFIED,
    /** The TXT record carries exactly this key. */
    VALID,
    /** A TXT record is there but carries another key (or is not a DKIM key record). */
    INVALID;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static DkimStatus of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
