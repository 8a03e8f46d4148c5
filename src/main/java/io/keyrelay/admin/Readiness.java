package io.keyrelay.admin;

import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Builds the readiness check behind {@code /readyz} from named checks: ready when every check passes, else the
 * reasons of the ones that fail. A check that throws counts as failing, with its message.
 */
public final class Readiness {
    private Readiness() {}

    /** One named condition, such as "key store reachable" or "SMTP listening". */
    public record Check(String failureReason, BooleanSupplier passes) {}

    public static Check check(String failureReason, BooleanSupplier passes) {
        return new Check(failureReason, passes);
    }

    /** All checks, run in order on each probe; the reasons of failing ones are joined with "; ". */
    public static Supplier<Optional<String>> allOf(List<Check> checks) {
        List<Check> copy = List.copyOf(checks);
        return () -> {
            StringBuilder reasons = new StringBuilder();
            for (Check c : copy) {
                String failed = run(c);
                if (failed != null) {
                    reasons.append(reasons.isEmpty() ? "" : "; ").append(failed);
                }
            }
            return reasons.isEmpty() ? Optional.empty() : Optional.of(reasons.toString());
        };
    }

    private static String run(Check c) {
        try {
            return c.passes().getAsBoolean() ? null : c.failureReason();
        } catch (RuntimeException e) {
            return c.failureReason() + " (" + e.getMessage() + ")";
        }
    }
}
