package io.keyrelay.limits;

import io.keyrelay.keys.KeyLimits;

/** The answer to "may this key start another message now?": a {@link Reservation}, or a {@link Refusal}. */
public sealed interface Admission permits Reservation, Admission.Refusal {

    /** The message would break {@code limit}, whose value for this key is {@code value}. */
    record Refusal(KeyLimits.Limit limit, long value) implements Admission {}
}
