package io.keyrelay.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;

/**
 * Prometheus text from a relay, for tests that name series without the {@code node} tag every meter of a running
 * relay carries ({@code cluster.node_name}): checks the tag is there, then takes it out.
 */
public final class Scrapes {
    private Scrapes() {}

    /** {@code scrape} with {@code node="<node>"} removed from every series, after checking keyrelay's carry it. */
    public static String withoutNode(String scrape, String node) {
        assertThat(scrape).as("every series carries the node tag").containsPattern(
                "(?m)^keyrelay_[a-z_]+\\{(?:[^}]*,)?node=\"" + Pattern.quote(node) + "\"");
        String label = "node=\"" + node + "\"";
        return scrape.replace("{" + label + "}", "").replace("{" + label + ",", "{").replace("," + label, "");
    }
}
