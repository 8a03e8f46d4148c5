package io.keyrelay.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class XtextTest {
    @Test
    void isValid_acceptsPrintableAsciiAndUpperHexEscapes_only() {
        assertThat(Xtext.isValid("abc")).isTrue();
        assertThat(Xtext.isValid("user+40example.org")).isTrue();
        assertThat(Xtext.isValid("a+2B")).isTrue();
        assertThat(Xtext.isValid("")).isFalse();
        assertThat(Xtext.isValid("a=b")).isFalse(); // '=' must be encoded
        assertThat(Xtext.isValid("a b")).isFalse();
        assertThat(Xtext.isValid("a+2b")).isFalse(); // lower-case hex
        assertThat(Xtext.isValid("a+4")).isFalse(); // cut escape
        assertThat(Xtext.isValid("caf\u00e9")).isFalse();
    }

    @Test
    void decode_andOrcptForReport() {
        assertThat(Xtext.decode("user+40example.org")).isEqualTo("user@example.org");
        assertThat(Xtext.decode("a+2Bb+3Dc")).isEqualTo("a+b=c");
        assertThat(Xtext.orcptForReport("rfc822;orig+40example.org")).isEqualTo("rfc822; orig@example.org");
    }
}
