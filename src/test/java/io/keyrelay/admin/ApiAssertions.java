package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** Reading API responses in tests. */
final class ApiAssertions {
    static final ObjectMapper JSON = new ObjectMapper();

    private ApiAssertions() {}

    static JsonNode body(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    static JsonNode results(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return body(r).get("results");
    }

    /**
     * Asserts SparkPost's error shape exactly, {"errors":[{"message","description","code"}]}, and returns the
     * description.
     */
    static String error(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("application/json"));
        JsonNode b = body(r);
        assertThat(fieldNames(b)).containsExactly("errors");
        assertThat(b.get("errors")).hasSize(1);
        JsonNode e = b.get("errors").get(0);
        assertThat(fieldNames(e)).containsExactlyInAnyOrder("message", "description", "code");
        assertThat(e.get("code").asText()).isEqualTo(code);
        assertThat(e.get("message").asText()).isNotBlank();
        return e.get("description").asText();
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
