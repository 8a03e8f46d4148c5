package io.keyrelay.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A value quoted for a log line cannot end its field, start a new line, or reorder what the line shows. */
class LogTextTest {
    @Test
    void quotesAndBackslashesAndLineBreaks_areEscaped_insideOneQuotedField() {
        assertThat(LogText.quote("app\" key_id=forged")).isEqualTo("\"app\\\" key_id=forged\"");
        assertThat(LogText.quote("a\\b")).isEqualTo("\"a\\\\b\"");
        assertThat(LogText.quote("one\r\nINFO two")).isEqualTo("\"one\\r\\nINFO two\"");
        assertThat(LogText.quote(null)).isEqualTo("-");
    }

    @Test
    void controlAndFormatCharacters_areShownAsEscapes_andPrintableTextStays() {
        assertThat(LogText.quote("evil\u202Etxt.exe")).isEqualTo("\"evil\\u202Etxt.exe\"");
        assertThat(LogText.quote("\u2066x\u2069\u200B\0\u001B")).isEqualTo("\"\\u2066x\\u2069\\u200B\\u0000\\u001B\"");
        assertThat(LogText.quote("Zürich 😀")).isEqualTo("\"Zürich 😀\"");
        assertThat(LogText.quote("lone \uD800 surrogate")).isEqualTo("\"lone \\uD800 surrogate\"");
        assertThat(LogText.visible("name\u202E")).isEqualTo("name\\u202E");
        assertThat(LogText.visible("plain \"quoted\"")).isEqualTo("plain \"quoted\"");
    }
}
