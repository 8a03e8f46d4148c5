package io.keyrelay.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Protocol tokens fold and parse as ASCII only, where the JDK's methods would take other scripts too. */
class AsciiTest {
    @Test
    void caseFolding_isAsciiOnly_soDotlessIAndLongSAndKelvinStayWhatTheyAre() {
        assertThat("SMTP_\u0131njection".equalsIgnoreCase("SMTP_Injection")).as("the JDK folds U+0131").isTrue();
        assertThat(Ascii.equalsIgnoreCase("smtp_injection", "SMTP_Injection")).isTrue();
        assertThat(Ascii.equalsIgnoreCase("SMTP_\u0131njection", "SMTP_Injection")).isFalse();
        assertThat(Ascii.equalsIgnoreCase("\u017FMTP_Injection", "SMTP_Injection")).isFalse();
        assertThat(Ascii.toUpperCase("pla\u0131n")).isEqualTo("PLA\u0131N");
        assertThat(Ascii.toLowerCase("API_\u212AEYS/manage")).isEqualTo("api_\u212Aeys/manage");
        assertThat(Ascii.indexOfIgnoreCase("SMTP_Injection:x-msys-subaccount=7", ":X-MSYS-SUBACCOUNT=")).isEqualTo(14);
        assertThat(Ascii.startsWithIgnoreCase("from:<a@b>", "FROM:")).isTrue();
        assertThat(Ascii.startsWithIgnoreCase("fr", "FROM:")).isFalse();
    }

    @Test
    void numbers_areAsciiDigitsOnly_withoutSign() {
        assertThat(Long.parseLong("\u0663")).as("the JDK reads an Arabic-Indic three").isEqualTo(3);
        assertThat(Ascii.parseDigits("\u0663", 18)).isEqualTo(-1);
        assertThat(Ascii.parseDigits("+1", 18)).isEqualTo(-1);
        assertThat(Ascii.parseDigits("", 18)).isEqualTo(-1);
        assertThat(Ascii.parseDigits("1234567890123456789", 18)).isEqualTo(-1);
        assertThat(Ascii.parseDigits("042", 18)).isEqualTo(42);
        assertThat(Ascii.parseLong("-5")).isEqualTo(-5);
        assertThatThrownBy(() -> Ascii.parseLong("+5")).isInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> Ascii.parseLong("\uFF15")).isInstanceOf(NumberFormatException.class);
    }

    @Test
    void trim_removesSpaceAndTabOnly() {
        assertThat(Ascii.trim(" \tDATA \t")).isEqualTo("DATA");
        assertThat(Ascii.trim("DATA\u2003")).isEqualTo("DATA\u2003");
        assertThat(Ascii.trim("")).isEmpty();
    }
}
