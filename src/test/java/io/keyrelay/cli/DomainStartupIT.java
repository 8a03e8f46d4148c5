package io.keyrelay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.domains.DkimKeyring;
import io.keyrelay.domains.DnsTxtLookup;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.DomainSpec;
import io.keyrelay.domains.JdbcDomainStore;
import io.keyrelay.domains.MasterKey;
import io.keyrelay.keys.Actor;
import io.keyrelay.store.Database;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code serve} with sending domains in the store refuses to start, naming {@code dkim.master_key}, when that key
 * is missing or is not the one their DKIM keys were sealed under; with the right key the relay starts.
 */
class DomainStartupIT {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void serve_withDomainsButNoOrTheWrongMasterKey_exits2_namingTheKey(Kind kind) {
        try (TestDatabases.TestDb db = TestDatabases.create(kind, dir)) {
            MasterKey master = MasterKey.generate();
            try (Database d = Database.open(db.db(), db.dataDir())) {
                d.migrate();
                new DomainService(new JdbcDomainStore(d.dataSource()), new DkimKeyring(master, Clock.systemUTC()),
                        DnsTxtLookup.using(java.util.List.of(), java.time.Duration.ofSeconds(1)), Clock.systemUTC()).create(DomainSpec.of("example.com"), Actor.CLI);
            }
            Map<String, String> env = new HashMap<>(db.env());
            env.putAll(Map.of("KEYRELAY_DOWNSTREAM_HOST", "127.0.0.1", "KEYRELAY_SMTP_AUTH_PLAINTEXT", "always",
                    "KEYRELAY_SMTP_PORT", "0", "KEYRELAY_ADMIN_PORT", "0"));

            String[] missing = serve(env);
            assertThat(missing[0]).isEqualTo("2");
            assertThat(missing[1]).contains("dkim.master_key: is required").contains("1 sending domain");

            env.put("KEYRELAY_DKIM_MASTER_KEY", MasterKey.generate().encoded());
            String[] wrong = serve(env);
            assertThat(wrong[0]).isEqualTo("2");
            assertThat(wrong[1]).contains("dkim.master_key: does not open the DKIM key of")
                    .contains("._domainkey.example.com").doesNotContain(env.get("KEYRELAY_DKIM_MASTER_KEY"));

            env.put("KEYRELAY_DKIM_MASTER_KEY", master.encoded());
            RelayConfig config = ConfigLoader.load(null, env);
            try (RelayRuntime rt = new RelayRuntime(config, null)) {
                assertThat(rt.domains().get("example.com").keys()).hasSize(1);
            }
        }
    }

    private static String[] serve(Map<String, String> env) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"serve"}, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), err.toString()};
    }
}
