package io.keyrelay.domains;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Actor;
import io.keyrelay.keys.AuditEvent;
import io.keyrelay.keys.JdbcKeyStore;
import io.keyrelay.store.Database;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.MutableClock;
import io.keyrelay.testing.TestDatabases;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DKIM record verification against a real DNS server (dnsmasq on a loopback port), over a real H2 file and a real
 * PostgreSQL: the record carrying this key, another key, no record, no name, and no answer at all.
 */
class DomainVerificationIT {
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void verify_decidesEachKeysStatusFromWhatDnsAnswers(Kind kind) throws Exception {
        try (Stores s = new Stores(kind, dir)) {
            DomainService setup = s.service(s.noAnswer());
            SendingDomain good = setup.create(new DomainSpec("good.test", null, false, true, 2048, true), Actor.CLI);
            SendingDomain wrong = setup.create(DomainSpec.of("wrong.test"), Actor.CLI);
            SendingDomain missing = setup.create(DomainSpec.of("missing.test"), Actor.CLI);
            SendingDomain nodata = setup.create(DomainSpec.of("nodata.test"), Actor.CLI);
            SendingDomain other = setup.create(DomainSpec.of("other.test"), Actor.CLI);
            DkimKey goodRsa = good.active(DkimAlgorithm.RSA).orElseThrow();
            DkimKey goodEd = good.active(DkimAlgorithm.ED25519).orElseThrow();
            String anotherKey = setup.create(DomainSpec.of("unrelated.test"), Actor.CLI).primaryKey().orElseThrow()
                    .publicKey();
            Dnsmasq.Zone zone = new Dnsmasq.Zone().local("test")
                    // the 2048-bit record is longer than one DNS string: dnsmasq serves it split, as DNS hosts do
                    .txt(goodRsa.recordName(), goodRsa.recordValue())
                    .txt(goodRsa.recordName(), "v=spf1 -all")
                    .txt(goodEd.recordName(), goodEd.recordValue().replace("; p=", ";\tp = "))
                    .txt(wrong.primaryKey().orElseThrow().recordName(), "v=DKIM1; k=rsa; p=" + anotherKey)
                    .txt(other.primaryKey().orElseThrow().recordName(), "google-site-verification=abc")
                    .addressOnly(nodata.primaryKey().orElseThrow().recordName());
            try (Dnsmasq dns = Dnsmasq.start(dir, zone)) {
                DomainService svc = s.service(DnsTxtLookup.using(List.of(dns.address()), Duration.ofSeconds(5)));

                DomainVerifier.Verification v = svc.verify(good.name(), Actor.CLI);
                assertThat(v.checks()).extracting(DomainVerifier.Check::outcome)
                        .containsExactly(DomainVerifier.Outcome.VALID, DomainVerifier.Outcome.VALID);
                assertThat(v.error()).isNull();
                SendingDomain g = svc.get("good.test");
                assertThat(g.dkimStatus()).isEqualTo(DkimStatus.VALID);
                assertThat(g.ownershipVerified()).isTrue();
                assertThat(g.keys()).allSatisfy(k -> assertThat(k.lastCheckedAt()).isEqualTo(s.now()));

                assertOutcome(svc, wrong, DomainVerifier.Outcome.WRONG_KEY, DkimStatus.INVALID, "another key");
                assertOutcome(svc, other, DomainVerifier.Outcome.WRONG_KEY, DkimStatus.INVALID,
                        "none is a DKIM key record");
                assertOutcome(svc, missing, DomainVerifier.Outcome.MISSING, DkimStatus.UNVERIFIED, "NXDOMAIN");
                assertOutcome(svc, nodata, DomainVerifier.Outcome.MISSING, DkimStatus.UNVERIFIED, "no TXT record");

                List<AuditEvent> checks = s.keyStore.audit(null, DomainService.CHECKED, null, 20);
                assertThat(checks).hasSize(5);
                assertThat(checks).anySatisfy(a -> assertThat(a.detail()).startsWith("domain=good.test dkim_status:"
                        + " unverified -> valid; ownership_verified: false -> true"));
                assertThat(dns.output()).contains(goodRsa.recordName());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void recheck_marksUnverifiedOnlyOnAnAuthoritativeAnswer_neverOnATimeoutOrARefusal(Kind kind) throws Exception {
        try (Stores s = new Stores(kind, dir); DatagramSocket blackHole = new DatagramSocket(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DomainService setup = s.service(s.noAnswer());
            SendingDomain d = setup.create(DomainSpec.of("example.test"), Actor.CLI);
            DkimKey key = d.primaryKey().orElseThrow();
            int port;
            try (Dnsmasq dns = Dnsmasq.start(dir, new Dnsmasq.Zone().local("test")
                    .txt(key.recordName(), key.recordValue()))) {
                port = dns.port();
                s.service(s.at(port)).verify(d.name(), Actor.CLI);
            }
            assertThat(setup.get("example.test").dkimStatus()).isEqualTo(DkimStatus.VALID);
            Instant verifiedAt = s.now();
            Duration recheck = Duration.ofHours(24);

            // Not due yet: nothing is asked.
            s.clock.advance(Duration.ofHours(23));
            assertThat(new DomainRechecker(s.service(s.noAnswer()), recheck).recheckDue()).isZero();

            // Due, but DNS does not answer (a server that never replies): the status stays, and so does the time.
            s.clock.advance(Duration.ofHours(2));
            DomainService timingOut = s.service(DnsTxtLookup.using(List.of(
                    (InetSocketAddress) blackHole.getLocalSocketAddress()), TIMEOUT));
            assertThat(new DomainRechecker(timingOut, recheck).recheckDue()).isEqualTo(1);
            assertKept(s, verifiedAt);

            // A server that refuses to answer for the domain (REFUSED, as SERVFAIL): no answer either.
            try (Dnsmasq refusing = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("elsewhere"))) {
                assertThat(new DomainRechecker(s.service(s.at(port)), recheck).recheckDue()).isEqualTo(1);
                assertKept(s, verifiedAt);
                assertThat(refusing.output()).contains(key.recordName());
            }

            // The record is gone and DNS says so: now the domain is unverified, in the audit trail by the system.
            try (Dnsmasq gone = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test"))) {
                assertThat(new DomainRechecker(s.service(s.at(port)), recheck).recheckDue()).isEqualTo(1);
                SendingDomain after = setup.get("example.test");
                assertThat(after.dkimStatus()).isEqualTo(DkimStatus.UNVERIFIED);
                assertThat(after.ownershipVerified()).isFalse();
                assertThat(after.lastCheckedAt()).isEqualTo(s.now());
                assertThat(s.keyStore.audit(null, DomainService.CHECKED, null, 1)).singleElement()
                        .satisfies(a -> assertThat(a.actor()).isEqualTo("system"))
                        .satisfies(a -> assertThat(a.detail()).contains("dkim_status: valid -> unverified"));
                // Checked just now: the next round leaves it alone.
                assertThat(new DomainRechecker(s.service(s.at(port)), recheck).recheckDue()).isZero();
            }

            // Published again: the next due re-check finds it, with no one asking.
            s.clock.advance(Duration.ofHours(25));
            try (Dnsmasq back = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test")
                    .txt(key.recordName(), key.recordValue()))) {
                assertThat(new DomainRechecker(s.service(s.at(port)), recheck).recheckDue()).isEqualTo(1);
                assertThat(setup.get("example.test").dkimStatus()).isEqualTo(DkimStatus.VALID);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void verify_whenDnsDoesNotAnswer_keepsTheStatus_andSaysWhy(Kind kind) throws Exception {
        try (Stores s = new Stores(kind, dir); DatagramSocket blackHole = new DatagramSocket(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DomainService svc = s.service(DnsTxtLookup.using(List.of(
                    (InetSocketAddress) blackHole.getLocalSocketAddress()), TIMEOUT));
            SendingDomain d = svc.create(DomainSpec.of("example.test"), Actor.CLI);
            DomainVerifier.Verification v = svc.verify(d.name(), Actor.CLI);
            assertThat(v.checks()).singleElement().satisfies(c -> {
                assertThat(c.outcome()).isEqualTo(DomainVerifier.Outcome.UNAVAILABLE);
                assertThat(c.detail()).contains("no answer from DNS").contains("the status is kept");
            });
            SendingDomain after = svc.get("example.test");
            assertThat(after.dkimStatus()).isEqualTo(DkimStatus.UNVERIFIED);
            assertThat(after.lastCheckedAt()).isNull();
        }
    }

    private static void assertOutcome(DomainService svc, SendingDomain d, DomainVerifier.Outcome outcome,
            DkimStatus status, String detail) {
        DomainVerifier.Verification v = svc.verify(d.name(), Actor.CLI);
        assertThat(v.checks()).singleElement().satisfies(c -> {
            assertThat(c.outcome()).isEqualTo(outcome);
            assertThat(c.detail()).contains(detail);
        });
        assertThat(v.error()).contains(detail);
        SendingDomain after = svc.get(d.name().ascii());
        assertThat(after.dkimStatus()).isEqualTo(status);
        assertThat(after.ownershipVerified()).isFalse();
        assertThat(after.lastCheckedAt()).isNotNull();
    }

    private static void assertKept(Stores s, Instant verifiedAt) {
        SendingDomain d = s.service(s.noAnswer()).get("example.test");
        assertThat(d.dkimStatus()).isEqualTo(DkimStatus.VALID);
        assertThat(d.ownershipVerified()).isTrue();
        assertThat(d.lastCheckedAt()).isEqualTo(verifiedAt);
    }

    /** One store, one master key and one clock; services over it differ only in the DNS they ask. */
    private static final class Stores implements AutoCloseable {
        final TestDatabases.TestDb db;
        final Database database;
        final JdbcKeyStore keyStore;
        final MutableClock clock = MutableClock.startingNow();
        final MasterKey master = MasterKey.generate();

        Stores(Kind kind, Path dir) {
            db = TestDatabases.create(kind, dir);
            database = Database.open(db.db(), db.dataDir());
            database.migrate();
            keyStore = new JdbcKeyStore(database.dataSource());
        }

        Instant now() {
            return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        }

        DomainService service(DnsTxtLookup dns) {
            return new DomainService(new JdbcDomainStore(database.dataSource()), new DkimKeyring(master, clock), dns,
                    clock);
        }

        DnsTxtLookup at(int port) {
            return DnsTxtLookup.using(List.of(new InetSocketAddress("127.0.0.1", port)), Duration.ofSeconds(5));
        }

        /** Nothing listens on the discard port: every look-up fails fast. */
        DnsTxtLookup noAnswer() {
            return DnsTxtLookup.using(List.of(new InetSocketAddress("127.0.0.1", 9)), TIMEOUT);
        }

        @Override
        public void close() {
            database.close();
            db.close();
        }
    }
}
