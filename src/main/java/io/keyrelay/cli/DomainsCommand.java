package io.keyrelay.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.keyrelay.domains.DkimImport;
import io.keyrelay.domains.DkimKey;
import io.keyrelay.domains.DomainException;
import io.keyrelay.domains.DomainName;
import io.keyrelay.domains.DomainSpec;
import io.keyrelay.domains.DomainVerifier;
import io.keyrelay.domains.DomainViews;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.keys.Actor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyrelay domains …}: manage sending domains and their DKIM keys in the store the relay uses. */
@Command(name = "domains", description = "Add, list, show, verify, delete sending domains and rotate their DKIM keys.",
        subcommands = {DomainsCommand.Add.class, DomainsCommand.ListDomains.class, DomainsCommand.Show.class,
                DomainsCommand.Verify.class, DomainsCommand.Delete.class, DomainsCommand.RotateDkim.class})
final class DomainsCommand {

    /** Shared plumbing: output, JSON, the store, the actor. */
    abstract static class DomainCommand extends ConfigOption implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Override
        public final Integer call() {
            try (Stores stores = Stores.open(config())) {
                return run(stores);
            }
        }

        abstract int run(Stores stores);

        /** The operating system user who ran the command (the one behind {@code sudo} when there is one). */
        Actor actor() {
            String user = env().get("SUDO_USER");
            if (user == null || user.isBlank()) {
                user = env().get("USER");
            }
            return Actor.cli(user == null || user.isBlank() ? System.getProperty("user.name") : user);
        }

        void printJson(Object o) {
            try {
                out().println(KeysCommand.JSON.writeValueAsString(o));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The records to publish, each as its name and type on one line and its value on the next. */
        void printRecords(List<DkimKey> keys) {
            for (DkimKey k : keys) {
                out().printf("  %s  TXT   (%s %d, %s, %s)%n", k.recordName(), k.algorithm().signatureAlgorithm(),
                        k.bits(), state(k), k.status().wireName());
                out().println("    " + k.recordValue());
            }
        }

        static String state(DkimKey k) {
            return k.state() == DkimKey.State.ACTIVE ? "active" : "pending: replaces the active key once it verifies";
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a sending domain, make its DKIM key, and print the DNS record to publish.")
    static final class Add extends DomainCommand {
        @Parameters(paramLabel = "DOMAIN", description = "The domain, in either IDN form (bücher.example or"
                + " xn--bcher-kva.example).")
        String domain;

        @Option(names = "--subaccount", paramLabel = "N", description = "Subaccount the domain belongs to.")
        Long subaccount;

        @Option(names = "--shared", description = "Let every subaccount send as this primary-account domain.")
        boolean shared;

        @Option(names = "--no-dkim", description = "Make no DKIM key (the domain cannot be verified or signed for).")
        boolean noDkim;

        @Option(names = "--key-length", paramLabel = "BITS", defaultValue = "2048",
                description = "RSA key length: 2048 (default) or 1024.")
        int keyLength;

        @Option(names = "--ed25519", description = "Make an Ed25519 key too (RFC 8463): mail carries both signatures.")
        boolean ed25519;

        @Mixin
        OwnKeyOptions ownKey;

        @Override
        int run(Stores stores) {
            DkimImport imported = ownKey.imported(spec.commandLine());
            if (imported != null && noDkim) {
                throw new ParameterException(spec.commandLine(), "--no-dkim and --dkim-private-key-file exclude each"
                        + " other");
            }
            SendingDomain d;
            try {
                d = stores.domains.create(new DomainSpec(domain, subaccount, shared, !noDkim, keyLength, ed25519,
                        imported), actor());
            } catch (DomainException e) {
                throw asFlags(e);
            }
            if (json) {
                printJson(DomainViews.view(d));
                return 0;
            }
            PrintWriter o = out();
            o.println("Sending domain added: " + name(d.name()) + " (" + account(d) + ")");
            if (d.keys().isEmpty()) {
                o.println("It has no DKIM key; make one with: keyrelay domains rotate-dkim " + d.name());
                return 0;
            }
            o.println();
            o.println("Publish " + (d.keys().size() == 1 ? "this DNS record" : "these DNS records")
                    + ", then run: keyrelay domains verify " + d.name());
            o.println();
            printRecords(d.keys());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sending domains.")
    static final class ListDomains extends DomainCommand {
        @Option(names = "--subaccount", paramLabel = "N",
                description = "Only this subaccount's domains, and the primary account's shared ones.")
        Long subaccount;

        @Override
        int run(Stores stores) {
            List<SendingDomain> all = subaccount == null ? stores.domains.list()
                    : stores.domains.list(subaccount, true);
            if (json) {
                printJson(all.stream().map(DomainViews::view).toList());
                return 0;
            }
            if (all.isEmpty()) {
                out().println("No sending domains. Add one with: keyrelay domains add example.com");
                return 0;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"DOMAIN", "ACCOUNT", "SHARED", "DKIM", "VERIFIED", "SELECTOR", "LAST CHECKED"});
            for (SendingDomain d : all) {
                rows.add(new String[] {name(d.name()), account(d), d.sharedWithSubaccounts() ? "yes" : "no",
                        d.keys().isEmpty() ? "none" : d.dkimStatus().wireName(), d.ownershipVerified() ? "yes" : "no",
                        d.primaryKey().map(DkimKey::selector).orElse("-")
                                + (d.pending().isEmpty() ? "" : " (rotating)"),
                        d.lastCheckedAt() == null ? "never" : d.lastCheckedAt().toString()});
            }
            Table.print(out(), rows);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show a sending domain, its status and the DNS records to publish.")
    static final class Show extends DomainCommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        int run(Stores stores) {
            SendingDomain d = stores.domains.get(domain);
            if (json) {
                printJson(DomainViews.view(d));
                return 0;
            }
            PrintWriter o = out();
            o.println("domain:              " + name(d.name()));
            o.println("account:             " + account(d));
            o.println("shared:              " + (d.sharedWithSubaccounts() ? "yes, with every subaccount" : "no"));
            o.println("ownership verified:  " + (d.ownershipVerified() ? "yes" : "no"));
            o.println("dkim_status:         " + (d.keys().isEmpty() ? "no DKIM key" : d.dkimStatus().wireName()));
            o.println("last checked:        " + (d.lastCheckedAt() == null ? "never" : d.lastCheckedAt()));
            o.println("created:             " + d.createdAt());
            if (!d.keys().isEmpty()) {
                o.println("records to publish:");
                printRecords(d.keys());
            }
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Look the domain's DKIM records up in DNS now. Exit 0 when the domain's key is valid, 1"
                    + " otherwise.")
    static final class Verify extends DomainCommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        int run(Stores stores) {
            DomainName name = stores.domains.get(domain).name();
            DomainVerifier.Verification v = stores.domains.verify(name, actor());
            SendingDomain d = v.domain();
            boolean valid = !d.keys().isEmpty() && d.dkimStatus() == io.keyrelay.domains.DkimStatus.VALID;
            if (json) {
                printJson(DomainViews.verification(v));
                return valid ? 0 : Main.EXIT_RUNTIME;
            }
            PrintWriter o = out();
            for (DomainVerifier.Check c : v.checks()) {
                o.printf("%-11s %s%n", c.outcome().wireName(), c.detail());
            }
            o.println(name(d.name()) + ": dkim_status " + d.dkimStatus().wireName() + ", ownership "
                    + (d.ownershipVerified() ? "verified" : "not verified"));
            if (v.checks().isEmpty()) {
                o.println("It has no DKIM key; make one with: keyrelay domains rotate-dkim " + d.name());
            } else if (!valid) {
                o.println("Publish:");
                printRecords(d.keys().stream().filter(k -> k.status() != io.keyrelay.domains.DkimStatus.VALID)
                        .toList());
            }
            return valid ? 0 : Main.EXIT_RUNTIME;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a sending domain and its DKIM keys.")
    static final class Delete extends DomainCommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        int run(Stores stores) {
            SendingDomain d = stores.domains.get(domain);
            stores.domains.delete(d.name(), actor());
            if (json) {
                printJson(java.util.Map.of("domain", d.name().ascii(), "deleted", true));
            } else {
                out().println("Sending domain deleted: " + name(d.name()) + ". Its DNS records may be removed.");
            }
            return 0;
        }
    }

    @Command(name = "rotate-dkim", mixinStandardHelpOptions = true,
            description = "Make a new DKIM key under a new selector. The current key goes on signing until the new"
                    + " record is published and verifies; then the new key replaces it.")
    static final class RotateDkim extends DomainCommand {
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Option(names = "--key-length", paramLabel = "BITS",
                description = "RSA key length: 2048 or 1024 (default: the current key's).")
        Integer keyLength;

        @Mixin
        OwnKeyOptions ownKey;

        @Override
        int run(Stores stores) {
            DkimImport imported = ownKey.imported(spec.commandLine());
            if (imported != null && keyLength != null) {
                throw new ParameterException(spec.commandLine(), "--key-length does not apply to"
                        + " --dkim-private-key-file");
            }
            SendingDomain before = stores.domains.get(domain);
            SendingDomain d;
            try {
                d = stores.domains.rotate(before.name(), keyLength, imported, actor());
            } catch (DomainException e) {
                throw asFlags(e);
            }
            if (json) {
                printJson(DomainViews.view(d));
                return 0;
            }
            List<DkimKey> fresh = d.keys().stream().filter(k -> !before.keys().contains(k)).toList();
            PrintWriter o = out();
            o.println("New DKIM key for " + name(d.name()) + ". Publish:");
            o.println();
            printRecords(fresh);
            o.println();
            if (fresh.stream().anyMatch(k -> k.state() == DkimKey.State.PENDING)) {
                o.println("Keep the current record" + (d.keys().size() - fresh.size() == 1 ? "" : "s")
                        + " published: it signs until the new one verifies (keyrelay domains verify " + d.name()
                        + ", or the next re-check).");
            } else {
                o.println("Then run: keyrelay domains verify " + d.name());
            }
            return 0;
        }
    }

    /** The {@code --dkim-*} flags of {@code add} and {@code rotate-dkim}: the owner's own RSA key. */
    static final class OwnKeyOptions {
        @Option(names = "--dkim-selector", paramLabel = "SELECTOR",
                description = "With --dkim-private-key-file: the selector the key's record is published under (on"
                        + " rotation: one the domain does not have).")
        String selector;

        @Option(names = "--dkim-private-key-file", paramLabel = "FILE", description = "Sign with this RSA key"
                + " (1024 to 4096 bits; PEM or base64, PKCS#8 or PKCS#1, unencrypted) instead of making one.")
        Path privateKeyFile;

        @Option(names = "--dkim-public-key-file", paramLabel = "FILE",
                description = "Its public key (PEM or base64), checked against the private key. Default: derived.")
        Path publicKeyFile;

        /** The key the flags name, or null; the selector and the public key need the private key's file. */
        DkimImport imported(picocli.CommandLine cl) {
            if (privateKeyFile != null) {
                return new DkimImport(selector, read(cl, privateKeyFile, "--dkim-private-key-file"),
                        publicKeyFile == null ? null : read(cl, publicKeyFile, "--dkim-public-key-file"));
            }
            if (selector != null || publicKeyFile != null) {
                throw new ParameterException(cl, (selector != null ? "--dkim-selector" : "--dkim-public-key-file")
                        + " goes with --dkim-private-key-file");
            }
            return null;
        }
    }

    /** A key file's text; a file that cannot be read is a usage error naming the flag (never its content). */
    static String read(picocli.CommandLine cl, Path file, String flag) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1); // any bytes: a DER file fails as not PEM
        } catch (IOException e) {
            throw new ParameterException(cl, flag + ": cannot read " + file + " (" + e.getClass().getSimpleName()
                    + ")");
        }
    }

    /** The same error with the {@code dkim.*} field named by its CLI flag. */
    static DomainException asFlags(DomainException e) {
        String flag = switch (e.field()) {
            case "dkim.private" -> "--dkim-private-key-file";
            case "dkim.public" -> "--dkim-public-key-file";
            case "dkim.selector" -> "--dkim-selector";
            default -> null;
        };
        if (flag == null) {
            return e;
        }
        String m = e.getMessage().startsWith(e.field()) ? flag + e.getMessage().substring(e.field().length())
                : flag + ": " + e.getMessage();
        return new DomainException(e.kind(), flag, m.replace("dkim.private", "--dkim-private-key-file")
                .replace("dkim.public", "--dkim-public-key-file"));
    }

    static String name(DomainName n) {
        return n.isInternational() ? n.ascii() + " (" + n.unicode() + ")" : n.ascii();
    }

    static String account(SendingDomain d) {
        return d.subaccountId() == null ? "primary account" : "subaccount " + d.subaccountId();
    }
}
