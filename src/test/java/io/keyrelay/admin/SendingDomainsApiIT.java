package io.keyrelay.admin;

import static io.keyrelay.admin.ApiAssertions.error;
import static io.keyrelay.admin.ApiAssertions.results;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.keyrelay.domains.DkimAlgorithm;
import io.keyrelay.domains.DkimKey;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.net.IpAllowlist;
import io.keyrelay.testing.LogCapture;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import io.keyrelay.testing.DkimKeys;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** SparkPost's sending-domains API over real HTTP, against a real H2 file and a real PostgreSQL. */
class SendingDomainsApiIT {
    private static final String BASE = "/api/v1/sending-domains";

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_returnsTheDkimObjectAndTheRecordToPublish_neverThePrivateKey(Kind kind) throws Exception {
        try (AdminFixture f = AdminFixture.start(kind, dir); LogCapture logs = LogCapture.of("")) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();

            HttpResponse<String> created = f.json("POST", BASE, admin,
                    "{\"domain\":\"Mail.Example.COM\",\"ed25519\":true,\"unknown\":1}");
            JsonNode c = results(created, 200);
            assertThat(c.get("message").asText()).isEqualTo("Successfully Created domain.");
            assertThat(c.get("domain").asText()).isEqualTo("mail.example.com");
            assertThat(c.get("shared_with_subaccounts").asBoolean()).isFalse();
            assertThat(c.get("subaccount_id").isNull()).isTrue();
            assertThat(c.at("/status/ownership_verified").asBoolean()).isFalse();
            assertThat(c.at("/status/dkim_status").asText()).isEqualTo("unverified");
            JsonNode dkim = c.get("dkim");
            String selector = dkim.get("selector").asText();
            assertThat(selector).matches("kr\\d{8}[0-9a-f]{4}");
            assertThat(dkim.get("signing_domain").asText()).isEqualTo("mail.example.com");
            assertThat(dkim.get("headers").asText()).startsWith("from:");
            RSAPublicKey pub = (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(dkim.get("public").asText())));
            assertThat(pub.getModulus().bitLength()).isEqualTo(2048);

            JsonNode dns = c.get("dns");
            assertThat(dns).hasSize(2);
            assertThat(dns.get(0).get("type").asText()).isEqualTo("TXT");
            assertThat(dns.get(0).get("name").asText()).isEqualTo(selector + "._domainkey.mail.example.com");
            assertThat(dns.get(0).get("value").asText())
                    .isEqualTo("v=DKIM1; k=rsa; h=sha256; p=" + dkim.get("public").asText());
            assertThat(dns.get(1).get("name").asText()).isEqualTo(selector + "e._domainkey.mail.example.com");
            assertThat(dns.get(1).get("algorithm").asText()).isEqualTo("ed25519-sha256");
            String edPublic = dns.get(1).get("value").asText().replace("v=DKIM1; k=ed25519; p=", "");
            assertThat(Base64.getDecoder().decode(edPublic)).hasSize(32);

            // The store holds the private keys sealed, never in clear, and they open under the master key only.
            SendingDomain stored = f.domains.get("mail.example.com");
            List<String> sealed = new ArrayList<>();
            try (Connection conn = f.database.dataSource().getConnection(); Statement s = conn.createStatement();
                    ResultSet rs = s.executeQuery("SELECT private_key FROM dkim_keys")) {
                while (rs.next()) {
                    sealed.add(rs.getString(1));
                }
            }
            assertThat(sealed).hasSize(2).allSatisfy(p -> assertThat(p).startsWith("v1:"));
            for (DkimKey k : stored.keys()) {
                String clear = Base64.getEncoder().encodeToString(f.domains.keyring().privateKey(k).getEncoded());
                assertThat(sealed).noneSatisfy(p -> assertThat(p).contains(clear.substring(clear.length() - 24)));
                assertThat(signsFor(k, f.domains)).as("private key matches the published one").isTrue();
            }

            HttpResponse<String> one = f.get(BASE + "/mail.example.com", admin);
            HttpResponse<String> list = f.get(BASE, admin);
            assertThat(results(one, 200).get("dkim").get("public").asText()).isEqualTo(dkim.get("public").asText());
            assertThat(results(list, 200)).extracting(n -> n.get("domain").asText()).containsExactly("mail.example.com");
            for (HttpResponse<String> r : List.of(created, one, list)) {
                assertThat(r.body()).doesNotContain("private").doesNotContain("v1:");
                for (String p : sealed) {
                    assertThat(r.body()).doesNotContain(p.substring(3, 40));
                }
            }
            assertThat(logs.all()).contains("sending domain created").doesNotContain("v1:");
            assertThat(f.keys.audit(null, DomainService.CREATED, null, 10)).singleElement().satisfies(a -> {
                assertThat(a.detail()).startsWith("domain=mail.example.com").contains(selector + ":rsa-2048");
                assertThat(a.actor()).startsWith("key:");
            });
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_refusesBadRequests_withAStructured4xxNamingTheField(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"dkim_key_length\":512}"), 422,
                    "1400")).startsWith("dkim_key_length:").contains("1024 or 2048");
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"dkim_key_length\":\"big\"}"),
                    422, "1400")).startsWith("dkim_key_length:");
            assertThat(error(f.json("POST", BASE, admin, "{}"), 422, "1400")).startsWith("domain:");
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"localhost\"}"), 422, "1400"))
                    .startsWith("domain:");
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"generate_dkim\":\"yes\"}"), 422,
                    "1400")).startsWith("generate_dkim:");
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":"), 400, "1200")).contains("not valid JSON");
            assertThat(error(f.json("POST", BASE, admin, "[]"), 422, "1400")).contains("JSON object");

            JsonNode small = results(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"dkim_key_length\":1024}"),
                    200);
            assertThat(small.at("/dns/0/bits").asInt()).isEqualTo(1024);
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"A.EXAMPLE.\"}"), 409, "1602"))
                    .startsWith("domain:").contains("a.example");
            JsonNode bare = results(f.json("POST", BASE, admin, "{\"domain\":\"b.example\",\"generate_dkim\":false}"),
                    200);
            assertThat(bare.has("dkim")).isFalse();
            assertThat(bare.get("dns")).isEmpty();
            assertThat(f.domains.list()).hasSize(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_withTheOwnersDkimKey_sealsIt_publishesItsPublicHalf_andNeverReturnsIt(Kind kind) throws Exception {
        KeyPair pair = rsa(2048);
        String pem = DkimKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded());
        String spki = Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
        try (AdminFixture f = AdminFixture.start(kind, dir); LogCapture logs = LogCapture.of("")) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            JsonNode c = results(f.json("POST", BASE, admin, "{\"domain\":\"own.example\",\"dkim\":{\"private\":"
                    + Json.MAPPER.writeValueAsString(pem) + ",\"public\":\"" + spki + "\",\"selector\":\"mail2026\","
                    + "\"headers\":\"from:to:subject:date\",\"signing_domain\":\"OWN.example\"}}"), 200);
            assertThat(c.at("/dkim/selector").asText()).isEqualTo("mail2026");
            assertThat(c.at("/dkim/public").asText()).isEqualTo(spki);
            assertThat(c.get("dns")).hasSize(1);
            assertThat(c.at("/dns/0/name").asText()).isEqualTo("mail2026._domainkey.own.example");
            assertThat(c.at("/dns/0/value").asText()).isEqualTo("v=DKIM1; k=rsa; h=sha256; p=" + spki);
            assertThat(c.at("/dns/0/bits").asInt()).isEqualTo(2048);

            // PKCS#1 as bare base64, the public key derived; a 4096-bit key; PKCS#1 PEM with a PKCS#1 public key.
            KeyPair big = rsa(4096);
            JsonNode one = results(f.json("POST", BASE, admin, "{\"domain\":\"b64.example\",\"dkim\":{\"private\":\""
                    + Base64.getEncoder().encodeToString(DkimKeys.pkcs1(big.getPrivate())) + "\",\"selector\":\"s-1.a\"}}"),
                    200);
            assertThat(one.at("/dkim/public").asText())
                    .isEqualTo(Base64.getEncoder().encodeToString(big.getPublic().getEncoded()));
            assertThat(one.at("/dns/0/bits").asInt()).isEqualTo(4096);
            KeyPair small = rsa(1024);
            results(f.json("POST", BASE, admin, "{\"domain\":\"pem1.example\",\"dkim\":{\"private\":"
                    + Json.MAPPER.writeValueAsString(DkimKeys.pem("RSA PRIVATE KEY", DkimKeys.pkcs1(small.getPrivate())))
                    + ",\"public\":" + Json.MAPPER.writeValueAsString(DkimKeys.pem("PUBLIC KEY",
                    small.getPublic().getEncoded())) + ",\"selector\":\"k1\"}}"), 200);

            // The key the relay signs with is the owner's, sealed at rest like a made one.
            DkimKey stored = f.domains.get("own.example").primaryKey().orElseThrow();
            assertThat(stored.sealedPrivateKey()).startsWith("v1:");
            assertThat(f.domains.keyring().privateKey(stored).getEncoded()).isEqualTo(pair.getPrivate().getEncoded());
            assertThat(signsFor(stored, f.domains)).isTrue();
            String clear = Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
            String[] slices = {clear.substring(100, 140), clear.substring(clear.length() - 40)};
            for (HttpResponse<String> r : List.of(f.get(BASE + "/own.example", admin), f.get(BASE, admin))) {
                assertThat(r.body()).doesNotContain("private").doesNotContain("v1:").doesNotContain(slices);
            }
            assertThat(logs.all()).contains("sending domain created: domain=own.example").contains("(imported)")
                    .doesNotContain(slices);
            assertThat(f.keys.audit(null, DomainService.CREATED, null, 10)).anySatisfy(a -> assertThat(a.detail())
                    .startsWith("domain=own.example").contains("mail2026:rsa-2048").endsWith(" imported"));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void create_withABadDkimKey_isRefused422_namingTheField(Kind kind) throws Exception {
        KeyPair pair = rsa(2048);
        String good = Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
        String other = Base64.getEncoder().encodeToString(rsa(2048).getPublic().getEncoded());
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        String ecKey = Base64.getEncoder().encodeToString(ec.generateKeyPair().getPrivate().getEncoded());
        String weak = Base64.getEncoder().encodeToString(rsa(512).getPrivate().getEncoded());
        String encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQww\\n"
                + "-----END ENCRYPTED PRIVATE KEY-----\\n";
        try (AdminFixture f = AdminFixture.start(kind, dir); LogCapture logs = LogCapture.of("")) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            java.util.function.BiFunction<String, String, String> refused = (dkim, code) -> error(f.json("POST", BASE,
                    admin, "{\"domain\":\"x.example\",\"dkim\":" + dkim + "}"), 422, code);
            assertThat(refused.apply("{\"private\":\"" + good + "\"}", "1400")).startsWith("dkim.selector:")
                    .contains("required");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"selector\":\"bad_sel\"}", "1400"))
                    .startsWith("dkim.selector:").contains("RFC 6376");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"selector\":\"-x\"}", "1400"))
                    .startsWith("dkim.selector:");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"selector\":\"" + "a".repeat(64) + "\"}",
                    "1400")).startsWith("dkim.selector:");
            assertThat(refused.apply("{\"selector\":\"s1\"}", "1400")).startsWith("dkim.private:").contains("required");
            assertThat(refused.apply("{\"private\":\"bm90IGEga2V5\",\"selector\":\"s1\"}", "1400"))
                    .startsWith("dkim.private:").contains("not an RSA private key");
            assertThat(refused.apply("{\"private\":\"%%%\",\"selector\":\"s1\"}", "1400"))
                    .startsWith("dkim.private:");
            assertThat(refused.apply("{\"private\":\"" + ecKey + "\",\"selector\":\"s1\"}", "1400"))
                    .startsWith("dkim.private:").contains("RSA");
            assertThat(refused.apply("{\"private\":\"" + weak + "\",\"selector\":\"s1\"}", "1400"))
                    .startsWith("dkim.private:").contains("512 bits").contains("1024 to 4096");
            assertThat(refused.apply("{\"private\":\"" + encrypted + "\",\"selector\":\"s1\"}", "1400"))
                    .startsWith("dkim.private:").contains("password-protected");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"public\":\"" + other + "\",\"selector\":\"s1\"}",
                    "1400")).startsWith("dkim.public:").contains("not the public half");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"public\":\"nope\",\"selector\":\"s1\"}",
                    "1400")).startsWith("dkim.public:");
            assertThat(refused.apply("{\"private\":1,\"selector\":\"s1\"}", "1400")).startsWith("dkim.private:");
            assertThat(refused.apply("\"key\"", "1400")).startsWith("dkim:");
            assertThat(refused.apply("{\"private\":\"" + good + "\",\"selector\":\"s1\",\"signing_domain\":"
                    + "\"other.example\"}", "1400")).startsWith("dkim.signing_domain:");
            assertThat(error(f.json("POST", BASE, admin, "{\"domain\":\"x.example\",\"ed25519\":true,\"dkim\":"
                    + "{\"private\":\"" + good + "\",\"selector\":\"s1\"}}"), 422, "1400")).startsWith("ed25519:");
            assertThat(f.domains.list()).isEmpty();
            assertThat(logs.all()).doesNotContain(good.substring(200, 240));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void rotateDkim_overRest_returnsTheNewSelectorAndRecord_isAudited_andKeepsTenancy(Kind kind) throws Exception {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            String view = f.key("view", Grant.SENDING_DOMAINS_VIEW).secret();
            String sub7 = subaccountKey(f, 7L);
            results(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"dkim_key_length\":1024,"
                    + "\"shared_with_subaccounts\":true}"), 200);
            results(f.json("POST", BASE, admin, "{\"domain\":\"bare.example\",\"generate_dkim\":false}"), 200);
            String oldSelector = f.domains.get("a.example").primaryKey().orElseThrow().selector();
            String path = BASE + "/a.example/rotate-dkim";

            error(f.json("POST", path, view, null), 403, "1100");
            assertThat(error(f.json("POST", path, sub7, null), 403, "1100")).contains("primary account");
            error(f.json("POST", BASE + "/nope.example/rotate-dkim", admin, null), 404, "1600");
            assertThat(error(f.json("POST", path, admin, "{\"dkim_key_length\":4096}"), 422, "1400"))
                    .startsWith("dkim_key_length:");
            assertThat(f.domains.get("a.example").pending()).as("refused calls changed nothing").isEmpty();

            JsonNode r = results(f.json("POST", path, admin, "{\"dkim_key_length\":2048}"), 200);
            String selector = r.get("selector").asText();
            assertThat(selector).matches("kr\\d{8}[0-9a-f]{4}").isNotEqualTo(oldSelector);
            assertThat(r.get("pending").asBoolean()).isTrue();
            assertThat(r.get("dns")).singleElement().satisfies(rec -> {
                assertThat(rec.get("name").asText()).isEqualTo(selector + "._domainkey.a.example");
                assertThat(rec.get("value").asText()).startsWith("v=DKIM1; k=rsa; h=sha256; p=MIIB");
                assertThat(rec.get("state").asText()).isEqualTo("pending");
                assertThat(rec.get("bits").asInt()).isEqualTo(2048);
            });
            // The active key goes on signing; the view lists both records.
            assertThat(r.at("/domain/dkim/selector").asText()).isEqualTo(oldSelector);
            assertThat(r.at("/domain/dns")).hasSize(2);
            assertThat(r.toString()).doesNotContain("v1:").doesNotContain("private");

            // To the owner's own key; its selector must be new to the domain.
            KeyPair pair = rsa(2048);
            String own = Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
            assertThat(error(f.json("POST", path, admin, "{\"dkim\":{\"private\":\"" + own + "\",\"selector\":\""
                    + oldSelector + "\"}}"), 422, "1400")).startsWith("dkim.selector:").contains("already");
            assertThat(error(f.json("POST", path, admin, "{\"dkim\":{\"private\":\"" + own + "\",\"selector\":"
                    + "\"s2\"},\"dkim_key_length\":1024}"), 422, "1400")).startsWith("dkim_key_length:");
            JsonNode mine = results(f.json("POST", path, admin, "{\"dkim\":{\"private\":\"" + own + "\",\"selector\":"
                    + "\"brand2\"}}"), 200);
            assertThat(mine.get("selector").asText()).isEqualTo("brand2");
            assertThat(mine.at("/dns/0/value").asText()).endsWith(Base64.getEncoder()
                    .encodeToString(pair.getPublic().getEncoded()));
            assertThat(f.domains.get("a.example").pending()).singleElement()
                    .satisfies(k -> assertThat(k.selector()).isEqualTo("brand2"));

            // A domain without DKIM gets its first key, active at once; no body needed.
            JsonNode first = results(f.json("POST", BASE + "/bare.example/rotate-dkim", admin, null), 200);
            assertThat(first.get("pending").asBoolean()).isFalse();
            assertThat(first.at("/domain/dkim/selector").asText()).isEqualTo(first.get("selector").asText());

            assertThat(f.keys.audit(null, DomainService.ROTATED, null, 10)).hasSize(3)
                    .allSatisfy(a -> assertThat(a.actor()).startsWith("key:"))
                    .anySatisfy(a -> assertThat(a.detail()).startsWith("domain=a.example new: brand2:rsa-2048(pending)"
                            + " imported; replaces the pending " + selector));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void grants_viewReads_manageChanges_andOtherGrantsGetNothing(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String manage = f.key("manage", Grant.SENDING_DOMAINS_MANAGE).secret();
            String view = f.key("view", Grant.SENDING_DOMAINS_VIEW).secret();
            String keysAdmin = f.key("keys", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT).secret();
            results(f.json("POST", BASE, manage, "{\"domain\":\"a.example\",\"generate_dkim\":false}"), 200);

            assertThat(results(f.get(BASE, view), 200)).hasSize(1);
            results(f.get(BASE + "/a.example", view), 200);
            assertThat(error(f.json("POST", BASE, view, "{\"domain\":\"b.example\"}"), 403, "1100"))
                    .contains("sending_domains/manage");
            error(f.json("PUT", BASE + "/a.example", view, "{\"shared_with_subaccounts\":true}"), 403, "1100");
            error(f.json("DELETE", BASE + "/a.example", view, null), 403, "1100");
            error(f.get(BASE, keysAdmin), 403, "1100");
            error(f.get(BASE, null), 401, "1100");
            error(f.get(BASE, "0123456789abcdef0123456789abcdef01234567"), 401, "1100");
            assertThat(f.domains.list()).hasSize(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void subaccounts_workWithTheirOwnDomains_andSeeButNeverChangeThePrimarysSharedOnes(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String primary = f.key("primary", Grant.SENDING_DOMAINS_MANAGE).secret();
            String sub7 = subaccountKey(f, 7L);
            String sub8 = subaccountKey(f, 8L);
            results(f.json("POST", BASE, primary, "{\"domain\":\"shared.example\",\"generate_dkim\":false,"
                    + "\"shared_with_subaccounts\":true}"), 200);
            results(f.json("POST", BASE, primary, "{\"domain\":\"primary.example\",\"generate_dkim\":false}"), 200);
            JsonNode own = results(f.json("POST", BASE, sub7, "{\"domain\":\"sub7.example\",\"generate_dkim\":false}"),
                    200);
            assertThat(own.get("subaccount_id").asLong()).isEqualTo(7);
            assertThat(error(f.json("POST", BASE, sub7, "{\"domain\":\"x.example\",\"shared_with_subaccounts\":true}"),
                    422, "1400")).startsWith("shared_with_subaccounts:");
            // A primary key naming a subaccount creates for it.
            JsonNode named = results(send(f, "POST", BASE, primary, "8",
                    "{\"domain\":\"sub8.example\",\"generate_dkim\":false}"), 200);
            assertThat(named.get("subaccount_id").asLong()).isEqualTo(8);

            assertThat(domains(f.get(BASE, primary))).containsExactly("primary.example", "shared.example",
                    "sub7.example", "sub8.example");
            assertThat(domains(f.get(BASE, sub7))).containsExactly("shared.example", "sub7.example");
            assertThat(domains(send(f, "GET", BASE, primary, "7", null))).containsExactly("shared.example",
                    "sub7.example");
            error(send(f, "GET", BASE, sub7, "8", null), 403, "1100");

            // Another subaccount's domain and the primary's unshared one do not exist for sub 8.
            error(f.get(BASE + "/sub7.example", sub8), 404, "1600");
            error(f.get(BASE + "/primary.example", sub8), 404, "1600");
            error(f.json("DELETE", BASE + "/sub7.example", sub8, null), 404, "1600");
            results(f.get(BASE + "/shared.example", sub8), 200);
            assertThat(error(f.json("PUT", BASE + "/shared.example", sub8, "{\"shared_with_subaccounts\":false}"),
                    403, "1100")).contains("primary account");
            error(f.json("DELETE", BASE + "/shared.example", sub8, null), 403, "1100");
            assertThat(f.domains.get("shared.example").sharedWithSubaccounts()).isTrue();
            assertThat(f.domains.list()).hasSize(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void idnDomains_areStoredAsALabels_shownWithULabels_andFoundInEitherForm(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            JsonNode c = results(f.json("POST", BASE, admin, "{\"domain\":\"Bücher.example\",\"generate_dkim\":false}"),
                    200);
            assertThat(c.get("domain").asText()).isEqualTo("xn--bcher-kva.example");
            assertThat(c.get("domain_unicode").asText()).isEqualTo("bücher.example");
            String encoded = URLEncoder.encode("bücher.example", StandardCharsets.UTF_8);
            assertThat(results(f.get(BASE + "/" + encoded, admin), 200).get("domain").asText())
                    .isEqualTo("xn--bcher-kva.example");
            results(f.get(BASE + "/XN--BCHER-KVA.example", admin), 200);
            error(f.json("POST", BASE, admin, "{\"domain\":\"xn--bcher-kva.EXAMPLE\"}"), 409, "1602");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void update_andDelete_areAudited_andADeletedDomainIsGone(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            results(f.json("POST", BASE, admin, "{\"domain\":\"a.example\",\"dkim_key_length\":1024}"), 200);
            JsonNode u = results(f.json("PUT", BASE + "/a.example", admin, "{\"shared_with_subaccounts\":true}"), 200);
            assertThat(u.get("shared_with_subaccounts").asBoolean()).isTrue();
            assertThat(u.get("dkim")).isNotNull();
            error(f.json("PUT", BASE + "/a.example", admin, "{\"shared_with_subaccounts\":1}"), 422, "1400");
            error(f.json("PUT", BASE + "/nope.example", admin, "{\"shared_with_subaccounts\":true}"), 404, "1600");

            assertThat(f.json("DELETE", BASE + "/a.example", admin, null).statusCode()).isEqualTo(204);
            error(f.get(BASE + "/a.example", admin), 404, "1600");
            error(f.json("DELETE", BASE + "/a.example", admin, null), 404, "1600");
            List<AuditEvent> trail = f.keys.audit(null, null, null, 20);
            assertThat(trail).extracting(AuditEvent::action).containsSubsequence(DomainService.DELETED,
                    DomainService.UPDATED, DomainService.CREATED);
            assertThat(trail.stream().filter(a -> a.action().equals(DomainService.UPDATED)).findFirst().orElseThrow()
                    .detail()).isEqualTo("domain=a.example shared_with_subaccounts: false -> true");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void verify_looksTheRecordUpInDns_andAnswersInSparkPostsShape(Kind kind) {
        int port = io.keyrelay.testing.FreePorts.pick();
        io.keyrelay.domains.DnsTxtLookup lookup = io.keyrelay.domains.DnsTxtLookup.using(
                List.of(new java.net.InetSocketAddress("127.0.0.1", port)), java.time.Duration.ofSeconds(5));
        try (AdminFixture f = AdminFixture.withDns(kind, dir, lookup)) {
            String admin = f.key("admin", Grant.SENDING_DOMAINS_MANAGE).secret();
            String sub = subaccountKey(f, 3L);
            results(f.json("POST", BASE, admin, "{\"domain\":\"good.test\",\"shared_with_subaccounts\":true}"), 200);
            results(f.json("POST", BASE, admin, "{\"domain\":\"bare.test\",\"generate_dkim\":false}"), 200);
            DkimKey key = f.domains.get("good.test").primaryKey().orElseThrow();
            try (io.keyrelay.testing.Dnsmasq dns = io.keyrelay.testing.Dnsmasq.start(dir, port,
                    new io.keyrelay.testing.Dnsmasq.Zone().local("test").txt(key.recordName(), key.recordValue()))) {
                String path = BASE + "/good.test/verify";
                assertThat(error(f.json("POST", path, admin, "{}"), 422, "1400")).startsWith("dkim_verify:");
                error(f.json("POST", path, sub, "{\"dkim_verify\":true}"), 403, "1100");
                assertThat(f.domains.get("good.test").lastCheckedAt()).as("refused calls asked nothing").isNull();

                JsonNode v = results(f.json("POST", path, admin, "{\"dkim_verify\":true}"), 200);
                assertThat(v.get("ownership_verified").asBoolean()).isTrue();
                assertThat(v.get("dkim_status").asText()).isEqualTo("valid");
                assertThat(v.at("/dns/dkim_record").asText()).isEqualTo(key.recordValue());
                assertThat(v.at("/dns/dkim_error").isMissingNode()).isTrue();
                assertThat(v.at("/checks/0/result").asText()).isEqualTo("valid");
                assertThat(v.at("/domain/status/dkim_status").asText()).isEqualTo("valid");
                assertThat(results(f.get(BASE + "/good.test", sub), 200).at("/status/ownership_verified").asBoolean())
                        .isTrue();

                JsonNode bare = results(f.json("POST", BASE + "/bare.test/verify", admin, "{\"dkim_verify\":true}"),
                        200);
                assertThat(bare.get("dkim_status").asText()).isEqualTo("unverified");
                assertThat(bare.at("/dns/dkim_error").asText()).contains("no DKIM key");
            }
            assertThat(f.keys.audit(null, DomainService.CHECKED, null, 10)).hasSize(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void keySendingDomains_mustBeTheAccountsDomains_andAKeyCannotWidenItsOwnList(Kind kind) {
        try (AdminFixture f = AdminFixture.start(kind, dir)) {
            String admin = f.key("admin", Grant.API_KEYS_MANAGE, Grant.SENDING_DOMAINS_MANAGE, Grant.SMTP_INJECT)
                    .secret();
            for (String d : List.of("a.example", "b.example")) {
                results(f.json("POST", BASE, admin, "{\"domain\":\"" + d + "\",\"generate_dkim\":false}"), 200);
            }
            results(f.json("POST", BASE, admin, "{\"domain\":\"shared.example\",\"generate_dkim\":false,"
                    + "\"shared_with_subaccounts\":true}"), 200);
            results(send(f, "POST", BASE, admin, "7", "{\"domain\":\"sub7.example\",\"generate_dkim\":false}"), 200);
            String keys = "/api/v1/api-keys";

            JsonNode k = results(f.json("POST", keys, admin, "{\"label\":\"billing\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"B.EXAMPLE.\",\"a.example\"]}"), 200);
            assertThat(k.get("sending_domains")).extracting(JsonNode::asText).containsExactly("a.example", "b.example");
            assertThat(error(f.json("POST", keys, admin, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"nope.example\"]}"), 422, "1400")).startsWith("sending_domains:")
                    .contains("nope.example is not a sending domain of the primary account");
            assertThat(error(f.json("POST", keys, admin, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"not a domain\"]}"), 422, "1400")).startsWith("sending_domains:");
            assertThat(error(f.json("POST", keys, admin, "{\"label\":\"x\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":\"a.example\"}"), 422, "1400")).startsWith("sending_domains:");
            // A subaccount's key may be narrowed to its own domains and the primary's shared ones only.
            results(send(f, "POST", keys, admin, "7", "{\"label\":\"s7\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"sub7.example\",\"shared.example\"]}"), 200);
            assertThat(error(send(f, "POST", keys, admin, "7", "{\"label\":\"s7\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"a.example\"]}"), 422, "1400")).contains("subaccount 7");

            // A key narrowed to a.example cannot make a key (itself included) that sends as more.
            String narrowed = f.key(new io.keyrelay.keys.KeySpec("narrow", java.util.EnumSet.of(Grant.API_KEYS_MANAGE,
                    Grant.SMTP_INJECT), IpAllowlist.ANY, null, null, null, List.of("a.example"))).secret();
            assertThat(error(f.json("POST", keys, narrowed, "{\"label\":\"y\",\"grants\":[\"smtp/inject\"]}"), 403,
                    "1100")).startsWith("sending_domains:").contains("any sending domain");
            error(f.json("POST", keys, narrowed, "{\"label\":\"y\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"a.example\",\"b.example\"]}"), 403, "1100");
            JsonNode y = results(f.json("POST", keys, narrowed, "{\"label\":\"y\",\"grants\":[\"smtp/inject\"],"
                    + "\"sending_domains\":[\"a.example\"]}"), 200);
            String self = f.keys.list().stream().filter(x -> x.label().equals("narrow")).findFirst().orElseThrow().id();
            error(f.json("PUT", keys + "/" + self, narrowed, "{\"label\":\"narrow\",\"grants\":[\"smtp/inject\","
                    + "\"api_keys/manage\"],\"sending_domains\":[]}"), 403, "1100");

            // The admin changes a list; the change is audited.
            JsonNode u = results(f.json("PUT", keys + "/" + y.get("id").asText(), admin, "{\"label\":\"y\","
                    + "\"grants\":[\"smtp/inject\"],\"sending_domains\":[\"b.example\"]}"), 200);
            assertThat(u.get("sending_domains")).extracting(JsonNode::asText).containsExactly("b.example");
            assertThat(f.keys.audit(y.get("id").asText(), null, 5)).anySatisfy(a -> assertThat(a.detail())
                    .contains("sending_domains: [a.example] -> [b.example]"));
        }
    }

    private static KeyPair rsa(int bits) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair();
    }

    private static String subaccountKey(AdminFixture f, long sub) {
        return f.key(new KeySpec("sub " + sub, EnumSet.of(Grant.SENDING_DOMAINS_MANAGE), IpAllowlist.ANY, sub, null))
                .secret();
    }

    private static HttpResponse<String> send(AdminFixture f, String method, String path, String key, String sub,
            String body) {
        HttpRequest.Builder b = f.request(path, key).header("X-MSYS-SUBACCOUNT", sub)
                .header("Content-Type", "application/json");
        return f.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static List<String> domains(HttpResponse<String> r) {
        List<String> out = new ArrayList<>();
        results(r, 200).forEach(n -> out.add(n.get("domain").asText()));
        return out;
    }

    private static boolean signsFor(DkimKey k, DomainService domains) throws Exception {
        byte[] data = "probe".getBytes(StandardCharsets.US_ASCII);
        boolean rsa = k.algorithm() == DkimAlgorithm.RSA;
        Signature s = Signature.getInstance(rsa ? "SHA256withRSA" : "Ed25519");
        s.initSign(domains.keyring().privateKey(k));
        s.update(data);
        byte[] sig = s.sign();
        byte[] spki = rsa ? Base64.getDecoder().decode(k.publicKey()) : edSpki(Base64.getDecoder().decode(k.publicKey()));
        Signature v = Signature.getInstance(rsa ? "SHA256withRSA" : "Ed25519");
        v.initVerify(KeyFactory.getInstance(rsa ? "RSA" : "Ed25519").generatePublic(new X509EncodedKeySpec(spki)));
        v.update(data);
        return v.verify(sig);
    }

    private static byte[] edSpki(byte[] raw) {
        byte[] prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
        byte[] out = new byte[prefix.length + raw.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(raw, 0, out, prefix.length, raw.length);
        return out;
    }
}
