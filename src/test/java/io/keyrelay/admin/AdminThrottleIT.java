package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.error;
import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.RawHttp;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guessing keys through the admin API or the console sign-in is throttled per client address, as SMTP AUTH is:
 * after {@code limits.auth_failures} failures the address gets 429 — even with a good key — until
 * {@code limits.auth_ban} has passed, each failure is answered after {@code limits.auth_delay}, and other
 * addresses are not affected.
 */
class AdminThrottleIT {
    private static final String BASE = "/api/v1/api-keys";
    private static final RelayConfig.AuthLimits LIMITS = new RelayConfig.AuthLimits(3, Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofMillis(300), 1000);

    @TempDir
    Path dir;

    @Test
    void failedKeys_leadTo429ForTheAddress_evenWithAGoodKey_untilTheBanEnds() {
        try (AdminFixture f = AdminFixture.throttled(Kind.H2, dir, LIMITS)) {
            String good = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            assertThat(f.get(BASE, good).statusCode()).isEqualTo(200);
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                error(f.get(BASE, "0".repeat(39) + i), 401, "1100");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            }
            String refused = error(f.get(BASE, good), 429, "1100");
            assertThat(refused).contains("too many failed authentications from 127.0.0.1", "try again after");
            error(f.get(BASE, "0".repeat(40)), 429, "1100"); // no store lookup, no delay while banned

            // Another address is not affected.
            assertThat(RawHttp.status("127.0.0.2", f.server.baseUri().getPort(), BASE, good)).isEqualTo(200);

            ConsoleClient console = new ConsoleClient(f);
            HttpResponse<String> signIn = console.signIn(good);
            assertThat(signIn.statusCode()).isEqualTo(429);
            assertThat(signIn.body()).contains("Too many failed sign-ins from this address");

            f.clock.advance(Duration.ofMinutes(15).plusSeconds(1));
            assertThat(f.get(BASE, good).statusCode()).isEqualTo(200);
            assertThat(f.registry.scrape()).containsPattern("keyrelay_admin_auth_total\\{[^}]*reason=\"throttled\"[^}]*} [1-9]");
        }
    }

    @Test
    void failedConsoleSignIns_countToo() {
        try (AdminFixture f = AdminFixture.throttled(Kind.H2, dir, LIMITS)) {
            String good = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            ConsoleClient console = new ConsoleClient(f);
            for (int i = 0; i < 3; i++) {
                assertThat(console.signIn("f".repeat(39) + i).statusCode()).isEqualTo(401);
            }
            assertThat(console.signIn(good).statusCode()).isEqualTo(429);
            error(f.get(BASE, good), 429, "1100");
        }
    }

    @Test
    void oneStaleKeyRetried_andAValidKeyFromAnAddressItExcludes_areRefusedEachTime_withoutA429() {
        try (AdminFixture f = AdminFixture.throttled(Kind.H2, dir, LIMITS)) {
            String good = f.key("admin", Grant.API_KEYS_MANAGE).secret();
            String pinned = f.key(new KeySpec("pinned", EnumSet.of(Grant.API_KEYS_MANAGE),
                    IpAllowlist.parse(List.of("127.0.0.99")), null, null)).secret();
            String stale = "e".repeat(40);
            for (int i = 0; i < 6; i++) {
                error(f.get(BASE, stale), 401, "1100");
                error(f.get(BASE, pinned), 403, "1100");
            }
            ConsoleClient console = new ConsoleClient(f);
            for (int i = 0; i < 3; i++) {
                assertThat(console.signIn(stale).statusCode()).isEqualTo(401);
            }
            assertThat(f.get(BASE, good).statusCode()).as("one wrong key nine times, a pinned key six: no ban")
                    .isEqualTo(200);
            // The stale key counted once: two more different wrong keys make the three that get the address refused.
            for (int i = 0; i < 2; i++) {
                error(f.get(BASE, "d".repeat(39) + i), 401, "1100");
            }
            error(f.get(BASE, good), 429, "1100");
        }
    }
}
