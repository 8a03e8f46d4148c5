package io.keyrelay.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyMaterialTest {

    @Test
    void newKey_is40LowercaseHex_andUnique() {
        KeyGenerator g = new KeyGenerator();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String k = g.newKey();
            assertThat(k).matches("[0-9a-f]{40}");
            assertThat(KeyGenerator.looksLikeKey(k)).isTrue();
            seen.add(k);
        }
        assertThat(seen).hasSize(1000);
    }

    @Test
    void newId_isAUuid_unlikeAKey() {
        String id = new KeyGenerator().newId();
        assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(KeyGenerator.looksLikeKey(id)).isFalse();
    }

    @Test
    void shortKey_isFirstFourCharacters() {
        assertThat(KeyGenerator.shortKeyOf("abcd0123456789abcdef0123456789abcdef0123")).isEqualTo("abcd");
    }

    @Test
    void looksLikeKey_rejectsWrongLengthOrAlphabet() {
        assertThat(KeyGenerator.looksLikeKey("ABCD0123456789abcdef0123456789abcdef0123")).isFalse();
        assertThat(KeyGenerator.looksLikeKey("abcd")).isFalse();
        assertThat(KeyGenerator.looksLikeKey(null)).isFalse();
    }

    @Test
    void sha256_matchesKnownVector() {
        // sha256("abc") from FIPS 180-2
        assertThat(KeyHasher.sha256().hash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void hmac_matchesRfc4231Case2_andDiffersFromPlainHash() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        KeyHasher h = KeyHasher.hmacSha256("Jefe");
        assertThat(h.hash("what do ya want for nothing?"))
                .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assertThat(h.peppered()).isTrue();
        assertThat(KeyHasher.hmacSha256("").peppered()).isFalse();
        assertThat(KeyHasher.hmacSha256(null).hash("abc")).isEqualTo(KeyHasher.sha256().hash("abc"));
    }

    @Test
    void hasher_isSafeAcrossThreads() throws Exception {
        KeyHasher h = KeyHasher.sha256();
        String expected = h.hash("abc");
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.startVirtualThread(() -> {
                for (int i = 0; i < 2000; i++) {
                    if (!h.hash("abc").equals(expected)) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(wrong).hasValue(0);
    }

    @Test
    void grant_parsesSparkPostNames_commaSeparatedAndRepeated() {
        assertThat(Grant.parseAll(List.of("smtp/inject,api_keys/view", "METRICS/VIEW")))
                .containsExactlyInAnyOrder(Grant.SMTP_INJECT, Grant.API_KEYS_VIEW, Grant.METRICS_VIEW);
    }

    @Test
    void grant_unknownName_listsTheValidOnes() {
        assertThatThrownBy(() -> Grant.of("smtp/send"))
                .isInstanceOf(KeyValidationException.class)
                .hasMessageContaining("unknown grant 'smtp/send'")
                .hasMessageContaining("smtp/inject")
                .hasMessageContaining("api_keys/manage")
                .hasMessageContaining("transmissions/view");
    }

    @Test
    void createdKey_toString_hidesTheSecret() {
        ApiKey k = new ApiKey("id", "l", "abcd", "hash", Set.of(Grant.SMTP_INJECT), io.keyrelay.net.IpAllowlist.ANY, null,
                java.time.Instant.EPOCH, java.time.Instant.EPOCH, null, null, null, null);
        String secret = "abcd0123456789abcdef0123456789abcdef0123";
        assertThat(new CreatedKey(k, secret).toString()).doesNotContain(secret).doesNotContain("hash");
    }
}
