package io.keyrelay.keys;

import io.keyrelay.text.Ascii;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A permission an API key holds, named as SparkPost names it.
 *
 * <p>keyrelay acts on {@link #SMTP_INJECT} (SMTP AUTH), {@link #API_KEYS_MANAGE} and {@link #API_KEYS_VIEW}
 * (the key API and console), {@link #SENDING_DOMAINS_MANAGE} and {@link #SENDING_DOMAINS_VIEW} (the sending-domain
 * API and console page), {@link #QUEUE_MANAGE} and {@link #QUEUE_VIEW} (the queue API and console page; keyrelay's
 * own, SparkPost has no queue API) and {@link #METRICS_VIEW}; the transmission grants are kept so keys created here
 * carry the same permission set as their SparkPost twins.
 */
public enum Grant {
    API_KEYS_MANAGE("api_keys/manage", "Create, update and revoke API keys"),
    API_KEYS_VIEW("api_keys/view", "List and read API keys"),
    METRICS_VIEW("metrics/view", "Read metrics"),
    QUEUE_MANAGE("queue/manage", "Retry, hold, release and delete queued messages"),
    QUEUE_VIEW("queue/view", "List and read queued messages"),
    SENDING_DOMAINS_MANAGE("sending_domains/manage", "Create, verify, update and delete sending domains"),
    SENDING_DOMAINS_VIEW("sending_domains/view", "List and read sending domains"),
    SMTP_INJECT("smtp/inject", "Send mail through SMTP"),
    TRANSMISSIONS_MODIFY("transmissions/modify", "Send transmissions"),
    TRANSMISSIONS_VIEW("transmissions/view", "Read transmissions");

    private final String wireName;
    private final String description;

    Grant(String wireName, String description) {
        this.wireName = wireName;
        this.description = description;
    }

    /** The SparkPost name, such as {@code smtp/inject}. */
    public String wireName() {
        return wireName;
    }

    public String description() {
        return description;
    }

    /**
     * Looks a grant up by its SparkPost name (case-insensitive).
     *
     * @throws KeyValidationException listing the valid names when there is no such grant
     */
    public static Grant of(String name) {
        String n = name == null ? "" : Ascii.toLowerCase(name.strip()); // ASCII: the Kelvin sign is no k
        for (Grant g : values()) {
            if (g.wireName.equals(n)) {
                return g;
            }
        }
        throw new KeyValidationException("grants", "unknown grant '" + name + "'; valid grants are: " + allNames());
    }

    /** Parses names, each possibly a comma-separated list ({@code --grant a,b}). */
    public static Set<Grant> parseAll(Collection<String> names) {
        EnumSet<Grant> out = EnumSet.noneOf(Grant.class);
        for (String n : names) {
            for (String part : n.split(",")) {
                if (!part.isBlank()) {
                    out.add(of(part));
                }
            }
        }
        return out;
    }

    public static String allNames() {
        return Arrays.stream(values()).map(Grant::wireName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return wireName;
    }
}
