package io.keyrelay.domains;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DomainNameTest {
    @Test
    void parse_storesOneNormalForm_forULabelsALabelsCaseAndTrailingDot() {
        DomainName u = DomainName.parse("Bücher.Example");
        DomainName a = DomainName.parse("XN--BCHER-KVA.example.");
        assertThat(u).isEqualTo(a);
        assertThat(u.ascii()).isEqualTo("xn--bcher-kva.example");
        assertThat(u.unicode()).isEqualTo("bücher.example");
        assertThat(u.isInternational()).isTrue();
        assertThat(DomainName.parse(" Mail.Example.COM ").ascii()).isEqualTo("mail.example.com");
        assertThat(DomainName.parse("mail.example.com").isInternational()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "localhost", "exa mple.com", "-bad.example", "bad-.example", "a..example",
            "under_score.example", "192.0.2.1", "example.com/x", "ex\u0000ample.com"})
    void parse_refusesWhatIsNotAHostNameOfTwoLabels_namingTheField(String text) {
        assertThatThrownBy(() -> DomainName.parse(text)).isInstanceOfSatisfying(DomainException.class, e -> {
            assertThat(e.field()).isEqualTo("domain");
            assertThat(e.kind()).isEqualTo(DomainException.Kind.INVALID);
        });
    }

    @Test
    void parse_refusesANameLongerThanDnsCarries() {
        String label = "a".repeat(63);
        String name = String.join(".", label, label, label, label) + ".example"; // 260 characters
        assertThatThrownBy(() -> DomainName.parse(name)).hasMessageContaining("longer than 253");
        assertThatThrownBy(() -> DomainName.parse("a".repeat(64) + ".example")).isInstanceOf(DomainException.class);
    }
}
