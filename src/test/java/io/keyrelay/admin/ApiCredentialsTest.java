package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ApiCredentialsTest {
    private static final String KEY = "0123456789abcdef0123456789abcdef01234567";

    private static String basic(String userPass) {
        return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bareKey_bearer_andBasicWithTheKeyAsUser_allYieldTheKey() {
        assertThat(ApiCredentials.fromHeader(KEY)).contains(KEY);
        assertThat(ApiCredentials.fromHeader("Bearer " + KEY)).contains(KEY);
        assertThat(ApiCredentials.fromHeader("bearer   " + KEY + " ")).contains(KEY);
        assertThat(ApiCredentials.fromHeader(basic(KEY + ":"))).contains(KEY);
        assertThat(ApiCredentials.fromHeader(basic(KEY))).contains(KEY);
    }

    @Test
    void missingOrMalformed_yieldsNothing() {
        assertThat(ApiCredentials.fromHeader(null)).isEmpty();
        assertThat(ApiCredentials.fromHeader("   ")).isEmpty();
        assertThat(ApiCredentials.fromHeader("Bearer ")).isEmpty();
        assertThat(ApiCredentials.fromHeader("Basic not-base64!")).isEmpty();
        assertThat(ApiCredentials.fromHeader(basic(":password"))).isEmpty();
        assertThat(ApiCredentials.fromHeader("Digest " + KEY)).isEmpty();
    }
}
