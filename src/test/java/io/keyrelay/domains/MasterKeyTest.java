package io.keyrelay.domains;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class MasterKeyTest {
    private static final byte[] SECRET = "a PKCS#8 private key".getBytes(StandardCharsets.US_ASCII);

    @Test
    void seal_thenOpen_givesThePlaintextBack_andTheSealedTextHidesIt() {
        MasterKey k = MasterKey.generate();
        String sealed = k.seal(SECRET, "example.com/sel");
        assertThat(sealed).startsWith("v1:").doesNotContain(Base64.getEncoder().encodeToString(SECRET));
        assertThat(k.open(sealed, "example.com/sel")).isEqualTo(SECRET);
        assertThat(k.seal(SECRET, "example.com/sel")).as("a fresh nonce each time").isNotEqualTo(sealed);
    }

    @Test
    void open_refusesAnotherMasterKey_anotherContext_andAlteredText() {
        MasterKey k = MasterKey.generate();
        String sealed = k.seal(SECRET, "example.com/sel");
        assertThatThrownBy(() -> MasterKey.generate().open(sealed, "example.com/sel"))
                .isInstanceOf(MasterKey.WrongKeyException.class).hasMessageContaining("another dkim.master_key");
        assertThatThrownBy(() -> k.open(sealed, "other.example/sel")).isInstanceOf(MasterKey.WrongKeyException.class);
        byte[] raw = Base64.getDecoder().decode(sealed.substring(3));
        raw[raw.length - 1] ^= 1;
        assertThatThrownBy(() -> k.open("v1:" + Base64.getEncoder().encodeToString(raw), "example.com/sel"))
                .isInstanceOf(MasterKey.WrongKeyException.class);
    }

    @Test
    void parse_acceptsOnlyBase64Of32Bytes_andNeverEchoesTheValue() {
        MasterKey k = MasterKey.generate();
        assertThat(MasterKey.parse(k.encoded()).open(k.seal(SECRET, "c"), "c")).isEqualTo(SECRET);
        String short16 = Base64.getEncoder().encodeToString(new byte[16]);
        assertThatThrownBy(() -> MasterKey.parse(short16)).hasMessageContaining("16 bytes, not 32")
                .message().doesNotContain(short16);
        assertThatThrownBy(() -> MasterKey.parse("not base64 !")).hasMessageContaining("not base64");
        assertThat(k.toString()).doesNotContain(k.encoded());
    }
}
