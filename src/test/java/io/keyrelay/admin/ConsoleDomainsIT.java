package io.keyrelay.admin;

import static io.keyrelay.admin.ConsoleClient.location;
import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.domains.DkimKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.DkimKeys;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's Sending Domains form over real HTTP (no browser): adding a domain with the owner's own DKIM key. */
class ConsoleDomainsIT {
    @TempDir
    Path dir;

    @Test
    void add_withTheOwnersKey_showsItsRecord_andARefusedKeyIsNeverEchoed() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair pair = g.generateKeyPair();
        String pem = DkimKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded());
        String spki = Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
        String clear = Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
        try (AdminFixture f = AdminFixture.start(Kind.H2, dir); LogCapture logs = LogCapture.of("")) {
            String admin = f.key("admin", Grant.API_KEYS_VIEW, Grant.SENDING_DOMAINS_MANAGE).secret();
            ConsoleClient c = new ConsoleClient(f);
            c.signIn(admin);
            assertThat(c.get("/console/sending-domains").body()).contains("id=\"own-key\"", "id=\"dkim_private\"");

            // A public key that is not the private key's: refused, naming the field, the key not sent back.
            g.initialize(1024);
            String otherPublic = DkimKeys.pem("PUBLIC KEY", g.generateKeyPair().getPublic().getEncoded());
            HttpResponse<String> refused = c.submit("/console/sending-domains", List.of("domain", "own.example",
                    "key_length", "2048", "dkim_selector", "brand1", "dkim_private", pem, "dkim_public", otherPublic));
            assertThat(refused.statusCode()).isEqualTo(422);
            assertThat(refused.body()).contains("dkim.public: is not the public half of dkim.private")
                    .contains("value=\"brand1\"").contains("<details id=\"own-key\" open>")
                    .doesNotContain(clear.substring(100, 140)).doesNotContain("BEGIN PRIVATE KEY");
            assertThat(f.domains.list()).isEmpty();

            HttpResponse<String> added = c.submit("/console/sending-domains", List.of("domain", "own.example",
                    "key_length", "2048", "dkim_selector", "brand1", "dkim_private", pem, "dkim_public", ""));
            assertThat(added.statusCode()).as(added.body()).isEqualTo(303);
            assertThat(location(added)).hasValue("/console/sending-domains/own.example?added");
            String page = c.get("/console/sending-domains/own.example?added").body();
            assertThat(page).contains("brand1._domainkey.own.example").contains(spki.substring(0, 60))
                    .doesNotContain(clear.substring(100, 140));
            DkimKey k = f.domains.get("own.example").primaryKey().orElseThrow();
            assertThat(k.selector()).isEqualTo("brand1");
            assertThat(k.publicKey()).isEqualTo(spki);
            assertThat(logs.all()).doesNotContain(clear.substring(100, 140));
        }
    }
}
