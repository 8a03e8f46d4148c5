package io.keyrelay.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DomainNamesTest {

    @ParameterizedTest
    @CsvSource({
        "Example.COM, example.com",
        "example.com., example.com",
        "bücher.de, xn--bcher-kva.de",
        "BÜCHER.de, xn--bcher-kva.de",
        "XN--BCHER-KVA.DE, xn--bcher-kva.de",
        "mail.münchen.example, mail.xn--mnchen-3ya.example",
        "' spaced.example ', spaced.example",
    })
    void normalForm_isLowerCaseALabels(String in, String expected) {
        assertThat(DomainNames.normalize(in)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "a..b", ".a.b", "-a.example", "a-.example", "-ü-.de", "exa mple.com", "a@b.c",
        "x.[1.2.3.4]"})
    void invalidNames_areRefused(String in) {
        assertThatThrownBy(() -> DomainNames.normalize(in)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("domain");
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 70})
    void overlongLabel_isRefused(int length) {
        assertThatThrownBy(() -> DomainNames.normalize("a".repeat(length) + ".example"))
                .hasMessageContaining("too long");
    }
}
