package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@code keyrelay domains …} commands on H2 and PostgreSQL, with a real dnsmasq answering the look-ups. */
class DomainsCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private final List<Result> all = new ArrayList<>();

    Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        Result r = new Result(code, out.toString(), err.toString());
        all.add(r);
        return r;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void addListShowVerifyRotateDelete_showTheRecordsToPublish_andNeverAPrivateKey(Kind kind) throws Exception {
        int port = FreePorts.pick();
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = new HashMap<>(db.env());
            env.put("KEYRELAY_DKIM_MASTER_KEY", MasterKey.generate().encoded());
            env.put("KEYRELAY_DNS_SERVERS", "127.0.0.1:" + port);
            env.put("KEYRELAY_DNS_TIMEOUT", "1s");

            Result idn = run(env, "domains", "add", "Bücher.example", "--ed25519");
            assertThat(idn.code()).as(idn.err()).isZero();
            assertThat(idn.out()).contains("Sending domain added: xn--bcher-kva.example (bücher.example) (primary"
                    + " account)").contains("._domainkey.xn--bcher-kva.example  TXT").contains("v=DKIM1; k=rsa;"
                    + " h=sha256; p=").contains("v=DKIM1; k=ed25519; p=").contains("keyrelay domains verify");

            Result added = run(env, "domains", "add", "mail.example.test", "--key-length", "1024", "--json");
            assertThat(added.code()).as(added.err()).isZero();
            JsonNode a = JSON.readTree(added.out());
            String oldName = a.at("/dns/0/name").asText();
            String oldValue = a.at("/dns/0/value").asText();
            assertThat(a.at("/dns/0/bits").asInt()).isEqualTo(1024);

            Result bad = run(env, "domains", "add", "bad_domain.test");
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).startsWith("keyrelay: ").contains("is not a domain name");
            assertThat(run(env, "domains", "add", "x.test", "--key-length", "512").err()).contains("1024 or 2048");
            Result dup = run(env, "domains", "add", "MAIL.example.test.");
            assertThat(dup.code()).isEqualTo(1);
            assertThat(dup.err()).contains("is a sending domain already");

            Result list = run(env, "domains", "list");
            assertThat(list.out()).contains("DOMAIN", "xn--bcher-kva.example (bücher.example)", "mail.example.test",
                    "unverified", "never");
            assertThat(JSON.readTree(run(env, "domains", "list", "--json").out())).hasSize(2);
            assertThat(run(env, "domains", "show", "mail.example.test").out()).contains("ownership verified:  no",
                    oldName, oldValue);

            // Not published yet: verify says what is missing and exits 1.
            Dnsmasq.Zone empty = new Dnsmasq.Zone().local("test");
            try (Dnsmasq dns = Dnsmasq.start(dir, port, empty)) {
                Result missing = run(env, "domains", "verify", "mail.example.test");
                assertThat(missing.code()).isEqualTo(1);
                assertThat(missing.out()).contains("missing", "NXDOMAIN", "Publish:", oldValue);
            }
            try (Dnsmasq dns = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test").txt(oldName, oldValue))) {
                Result ok = run(env, "domains", "verify", "mail.example.test");
                assertThat(ok.code()).as(ok.out()).isZero();
                assertThat(ok.out()).contains("valid", "dkim_status valid, ownership verified");

                // Rotation: the new key waits; the old one still signs, and still verifies.
                Result rotated = run(env, "domains", "rotate-dkim", "mail.example.test", "--key-length", "2048");
                assertThat(rotated.code()).as(rotated.err()).isZero();
                assertThat(rotated.out()).contains("Keep the current record published").doesNotContain(oldValue);
                JsonNode shown = JSON.readTree(run(env, "domains", "show", "mail.example.test", "--json").out());
                assertThat(shown.get("dns")).hasSize(2);
                assertThat(shown.at("/dkim/selector").asText()).isEqualTo(a.at("/dkim/selector").asText());
                assertThat(shown.at("/dns/1/state").asText()).isEqualTo("pending");
                String newName = shown.at("/dns/1/name").asText();
                String newValue = shown.at("/dns/1/value").asText();
                assertThat(run(env, "domains", "verify", "mail.example.test").code()).isZero();
                JsonNode still = JSON.readTree(run(env, "domains", "show", "mail.example.test", "--json").out());
                assertThat(still.at("/dns/1/state").asText()).isEqualTo("pending");
                assertThat(still.at("/dns/1/dkim_status").asText()).isEqualTo("unverified");

                try (Dnsmasq both = restart(dns, port, oldName, oldValue, newName, newValue)) {
                    Result done = run(env, "domains", "verify", "mail.example.test", "--json");
                    assertThat(done.code()).as(done.out()).isZero();
                    JsonNode after = JSON.readTree(done.out()).get("domain");
                    assertThat(after.get("dns")).singleElement().satisfies(r -> {
                        assertThat(r.get("name").asText()).isEqualTo(newName);
                        assertThat(r.get("state").asText()).isEqualTo("active");
                        assertThat(r.get("bits").asInt()).isEqualTo(2048);
                    });
                    assertThat(after.at("/dkim/selector").asText()).isEqualTo(newName.substring(0, newName.indexOf('.')));
                    assertThat(after.at("/status/dkim_status").asText()).isEqualTo("valid");
                }
            }

            Result audit = run(env, "audit", "list", "--json");
            assertThat(audit.out()).contains("domain.created", "domain.checked", "domain.dkim_rotated");
            Result deleted = run(env, "domains", "delete", "mail.example.test");
            assertThat(deleted.code()).isZero();
            Result gone = run(env, "domains", "show", "mail.example.test");
            assertThat(gone.code()).isEqualTo(1);
            assertThat(gone.err()).contains("no sending domain mail.example.test");
            assertThat(all).allSatisfy(r -> assertThat(r.out() + r.err()).doesNotContain("v1:")
                    .doesNotContain("PRIVATE").doesNotContain(env.get("KEYRELAY_DKIM_MASTER_KEY")));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void add_withTheOwnersKeyFile_publishesItsRecord_andRefusesBadInputNamingTheFlag(Kind kind) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        java.security.KeyPair pair = g.generateKeyPair();
        Path key = java.nio.file.Files.writeString(dir.resolve("dkim.pem"),
                io.keyrelay.testing.DkimKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        Path pub = java.nio.file.Files.writeString(dir.resolve("dkim.pub"),
                io.keyrelay.testing.DkimKeys.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
        g.initialize(1024);
        Path otherPub = java.nio.file.Files.writeString(dir.resolve("other.pub"),
                io.keyrelay.testing.DkimKeys.pem("PUBLIC KEY", g.generateKeyPair().getPublic().getEncoded()));
        Path junk = java.nio.file.Files.write(dir.resolve("junk.der"), new byte[] {0x30, (byte) 0x82, 0, 1, 2});
        String spki = java.util.Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = new HashMap<>(db.env());
            env.put("KEYRELAY_DKIM_MASTER_KEY", MasterKey.generate().encoded());

            Result added = run(env, "domains", "add", "own.example", "--dkim-selector", "brand1",
                    "--dkim-private-key-file", key.toString(), "--dkim-public-key-file", pub.toString());
            assertThat(added.code()).as(added.err()).isZero();
            assertThat(added.out()).contains("Sending domain added: own.example", "brand1._domainkey.own.example  TXT",
                    "(rsa-sha256 2048, active, unverified)", "v=DKIM1; k=rsa; h=sha256; p=" + spki);
            JsonNode shown = JSON.readTree(run(env, "domains", "show", "own.example", "--json").out());
            assertThat(shown.at("/dkim/selector").asText()).isEqualTo("brand1");
            assertThat(shown.at("/dkim/public").asText()).isEqualTo(spki);

            Result noSelector = run(env, "domains", "add", "a.example", "--dkim-private-key-file", key.toString());
            assertThat(noSelector.code()).isEqualTo(2);
            assertThat(noSelector.err()).startsWith("keyrelay: --dkim-selector: is required");
            Result both = run(env, "domains", "add", "a.example", "--no-dkim", "--dkim-selector", "s1",
                    "--dkim-private-key-file", key.toString());
            assertThat(both.code()).isEqualTo(2);
            assertThat(both.err()).contains("--no-dkim and --dkim-private-key-file exclude each other");
            Result lonely = run(env, "domains", "add", "a.example", "--dkim-selector", "s1");
            assertThat(lonely.code()).isEqualTo(2);
            assertThat(lonely.err()).contains("--dkim-selector goes with --dkim-private-key-file");
            Result bad = run(env, "domains", "add", "a.example", "--dkim-selector", "s1", "--dkim-private-key-file",
                    junk.toString());
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).startsWith("keyrelay: --dkim-private-key-file: is neither PEM nor base64");
            Result mismatch = run(env, "domains", "add", "a.example", "--dkim-selector", "s1",
                    "--dkim-private-key-file", key.toString(), "--dkim-public-key-file", otherPub.toString());
            assertThat(mismatch.code()).isEqualTo(2);
            assertThat(mismatch.err()).startsWith("keyrelay: --dkim-public-key-file: is not the public half of"
                    + " --dkim-private-key-file");
            Result missing = run(env, "domains", "add", "a.example", "--dkim-selector", "s1",
                    "--dkim-private-key-file", dir.resolve("nope.pem").toString());
            assertThat(missing.code()).isEqualTo(2);
            assertThat(missing.err()).contains("--dkim-private-key-file: cannot read");
            assertThat(JSON.readTree(run(env, "domains", "list", "--json").out())).hasSize(1);

            // Rotating to another own key: a new selector, pending beside the active one.
            Path next = java.nio.file.Files.writeString(dir.resolve("next.pem"), io.keyrelay.testing.DkimKeys.pem(
                    "RSA PRIVATE KEY", io.keyrelay.testing.DkimKeys.pkcs1(g.generateKeyPair().getPrivate())));
            Result same = run(env, "domains", "rotate-dkim", "own.example", "--dkim-selector", "BRAND1",
                    "--dkim-private-key-file", next.toString());
            assertThat(same.code()).isEqualTo(2);
            assertThat(same.err()).startsWith("keyrelay: --dkim-selector: BRAND1 is the selector of one of");
            Result rotated = run(env, "domains", "rotate-dkim", "own.example", "--dkim-selector", "brand2",
                    "--dkim-private-key-file", next.toString());
            assertThat(rotated.code()).as(rotated.err()).isZero();
            assertThat(rotated.out()).contains("brand2._domainkey.own.example  TXT   (rsa-sha256 1024, pending",
                    "Keep the current record published");
            String clear = java.util.Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
            assertThat(all).allSatisfy(r -> assertThat(r.out() + r.err()).doesNotContain("v1:")
                    .doesNotContain(clear.substring(300, 340)));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void keysCreateAndUpdate_takeSendingDomainsOfTheKeysAccountOnly(Kind kind) throws Exception {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            Map<String, String> env = new HashMap<>(db.env());
            assertThat(run(env, "domains", "add", "a.example", "--no-dkim").code()).isZero();
            assertThat(run(env, "domains", "add", "b.example", "--no-dkim", "--subaccount", "5").code()).isZero();
            Result created = run(env, "keys", "create", "--label", "billing", "--grant", "smtp/inject",
                    "--sending-domain", "A.example", "--json");
            assertThat(created.code()).as(created.err()).isZero();
            JsonNode k = JSON.readTree(created.out());
            assertThat(k.get("sending_domains")).extracting(JsonNode::asText).containsExactly("a.example");
            Result foreign = run(env, "keys", "create", "--label", "x", "--grant", "smtp/inject",
                    "--sending-domain", "b.example");
            assertThat(foreign.code()).isEqualTo(2);
            assertThat(foreign.err()).contains("b.example is not a sending domain of the primary account");
            Result sub = run(env, "keys", "create", "--label", "s", "--grant", "smtp/inject", "--subaccount", "5",
                    "--sending-domain", "b.example");
            assertThat(sub.code()).as(sub.err()).isZero();
            assertThat(sub.out()).contains("sends as:    b.example");
            String id = k.get("id").asText();
            Result cleared = run(env, "keys", "update", id, "--clear-sending-domains", "--json");
            assertThat(JSON.readTree(cleared.out()).get("sending_domains")).isEmpty();
            assertThat(run(env, "keys", "update", id, "--sending-domain", "nope.example").code()).isEqualTo(2);
        }
    }

    /** dnsmasq cannot change its records while it runs: stop it, and start it again on the same port. */
    private Dnsmasq restart(Dnsmasq running, int port, String name1, String value1, String name2, String value2) {
        running.close();
        return Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test").txt(name1, value1).txt(name2, value2));
    }

    @Test
    void withoutAMasterKey_aDomainWithDkimIsRefusedNamingTheKey_andOneWithoutCanBeAdded() {
        Map<String, String> env = Map.of("KEYRELAY_DATA_DIR", dir.resolve("data").toString());
        Result refused = run(env, "domains", "add", "example.com");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("dkim.master_key is not set");
        Result bare = run(env, "domains", "add", "example.com", "--no-dkim");
        assertThat(bare.code()).as(bare.err()).isZero();
        assertThat(bare.out()).contains("no DKIM key", "rotate-dkim");
        assertThat(run(env, "domains", "rotate-dkim", "example.com").err()).contains("dkim.master_key is not set");
    }
}
