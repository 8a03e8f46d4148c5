package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {
    @Test
    void multiLineCells_takeMoreLines_othersBlankBelow() {
        StringWriter s = new StringWriter();
        Table.print(new PrintWriter(s, true), List.of(new String[] {"A", "B", "C"},
                new String[] {"x", "one\ntwo", "z"}));
        assertThat(s.toString().lines().toList()).containsExactly("A  B    C", "x  one  z", "   two");
    }

    @Test
    void wrap_breaksAtSpaces_andCutsAWordLongerThanTheColumn() {
        assertThat(Table.wrap("password resets (EU)", 16)).isEqualTo("password resets\n(EU)");
        assertThat(Table.wrap("short", 16)).isEqualTo("short");
        assertThat(Table.wrap("abcdefghijklmnopqrstuvwxyz", 10)).isEqualTo("abcdefghij\nklmnopqrst\nuvwxyz");
    }
}
