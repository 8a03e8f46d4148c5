package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.body;
import static io.keyrelay.admin.ApiAssertions.error;
import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Grant;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /healthz, /readyz and /metrics over real HTTP. */
class HealthAndMetricsIT {
    @TempDir
    Path dir;

    @Test
    void healthz_isAlwaysOk_andReadyz_reportsTheReasonWhenNotReady() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            HttpResponse<String> health = f.get("/healthz", null);
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(body(health).get("status").asText()).isEqualTo("ok");

            HttpResponse<String> ready = f.get("/readyz", null);
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(body(ready).get("status").asText()).isEqualTo("ready");

            f.notReady.set(Optional.of("SMTP not listening"));
            HttpResponse<String> notReady = f.get("/readyz", null);
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(body(notReady).get("status").asText()).isEqualTo("not ready");
            assertThat(body(notReady).get("reason").asText()).isEqualTo("SMTP not listening");
            assertThat(f.get("/healthz", null).statusCode()).as("alive even when not ready").isEqualTo(200);
        }
    }

    @Test
    void metrics_needMetricsView_andShowJvmCachePoolAndAdminMeters() {
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir)) {
            String metricsKey = f.key("prometheus", Grant.METRICS_VIEW).secret();
            String admin = f.key("admin", Grant.API_KEYS_VIEW).secret();

            error(f.get("/metrics", null), 401, "1100");
            error(f.get("/metrics", admin), 403, "1100");

            // Traffic for the cache and the admin meters to count: two API calls (miss then hit).
            assertThat(f.get("/api/v1/api-keys", admin).statusCode()).isEqualTo(200);
            assertThat(f.get("/api/v1/api-keys/no-such-id", admin).statusCode()).isEqualTo(404);

            HttpResponse<String> scrape = f.get("/metrics", "Bearer " + metricsKey);
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/plain; version=0.0.4"));
            String text = scrape.body();
            assertThat(text).contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds",
                    "hikaricp_connections_active{pool=\"keyrelay-db\"}", "hikaricp_connections_max{pool=\"keyrelay-db\"}",
                    "cache_size{cache=\"api_keys\"}", "cache_evictions_total{cache=\"api_keys\"}");
            assertThat(value(text, "cache_gets_total{cache=\"api_keys\",result=\"miss\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(text, "cache_gets_total{cache=\"api_keys\",result=\"hit\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(text, "keyrelay_admin_requests_seconds_count{method=\"GET\",route=\"/api/v1/api-keys/{id}\","
                    + "status=\"404\"}")).isEqualTo(1);
            assertThat(value(text, "keyrelay_admin_auth_total{reason=\"none\",result=\"accepted\",surface=\"api\"}"))
                    .isEqualTo(2);
            // Ids never become label values: the route label is the template.
            assertThat(text).doesNotContain("no-such-id");
            assertThat(text).doesNotContain(metricsKey).doesNotContain(admin);
        }
    }

    /** The value of one sample line. */
    static double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
        assertThat(m.find()).as("series %s in:%n%s", series, scrape).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
