package io.keyrelay.text;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * How keyrelay prints a moment to people and programs: ISO 8601 in UTC to the second, {@code 2027-01-31T09:30:00Z},
 * the same in the CLI, the API and the console. {@link Instant#toString()} would print as many fraction digits as
 * the value happens to have (none, 3, 6 or 9), so one field would change shape from one answer to the next.
 */
public final class Times {
    private Times() {}

    /** {@code t} to the second, or null for null. */
    public static String iso(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
