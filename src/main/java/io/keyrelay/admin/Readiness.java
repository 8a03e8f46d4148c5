package io.keyrelay.admin;

import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Builds the readiness check behind {@code /readyz} from named checks: ready when every check passes, else the
 * reasons of the ones that fail. A check that throws counts as failing, with its message. A {@link #note} is a
 * condition worth telling but no reason to stop traffic (Redis away: the node counts on its own): {@code /readyz}
 * stays ready and lists it.
 */
public final class Readiness {
    private Readiness() {}

    /** One named condition, such as "key store reachable" or "SMTP listening"; {@code required} false for a note. */
    public record Check(String failureReason, BooleanSupplier passes, boolean required) {
        public Check(String failureReason, BooleanSupplier passes) {
            this(failureReason, passes, true);
        }
    }

    public static Check check(String failureReason, BooleanSupplier passes) {
        return new Check(failureReason, passes);
    }

    /** A condition reported by {@code /readyz} when it does not hold, without making the node unready. */
    public static Check note(String reason, BooleanSupplier passes) {
        return new Check(reason, passes, false);
    }

    /** The readiness of a set of checks, with the notes that do not hold now. */
    public interface Report extends Supplier<Optional<String>> {
        /** The reasons of the {@link #note notes} that do not hold now. */
        List<String> notes();
    }

    /** All checks, run in order on each probe; the reasons of failing required ones are joined with "; ". */
    public static Report allOf(List<Check> checks) {
        List<Check> required = checks.stream().filter(Check::required).toList();
        List<Check> notes = checks.stream().filter(c -> !c.required()).toList();
        return new Report() {
            @Override
            public Optional<String> get() {
                String reasons = String.join("; ", failing(required));
                return reasons.isEmpty() ? Optional.empty() : Optional.of(reasons);
            }

            @Override
            public List<String> notes() {
                return failing(notes);
            }
        };
    }

    private static List<String> failing(List<Check> checks) {
        List<String> out = new java.util.ArrayList<>();
        for (Check c : checks) {
            String failed = run(c);
            if (failed != null) {
                out.add(failed);
            }
        }
        return out;
    }

    private static String run(Check c) {
        try {
            return c.passes().getAsBoolean() ? null : c.failureReason();
        } catch (RuntimeException e) {
            return c.failureReason() + " (" + e.getMessage() + ")";
        }
    }
}
