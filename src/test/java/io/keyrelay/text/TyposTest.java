package io.keyrelay.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TyposTest {
    private static final List<String> COMMANDS = List.of("serve", "dev", "keys", "audit", "db", "config", "bench");

    @Test
    void swappedNeighbours_countAsOneEdit() {
        assertThat(Typos.distance("kyes", "keys")).isEqualTo(1);
        assertThat(Typos.distance("lsit", "list")).isEqualTo(1);
        assertThat(Typos.closest("kyes", COMMANDS, 1)).contains("keys");
    }

    @Test
    void nothingClose_suggestsNothing() {
        assertThat(Typos.closest("frobnicate", COMMANDS, 3)).isEmpty();
        assertThat(Typos.distance("", "db")).isEqualTo(2);
    }
}
