package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.keyrelay.domains.DkimImport;
import io.keyrelay.domains.DkimKey;
import io.keyrelay.domains.DkimStatus;
import io.keyrelay.domains.DomainException;
import io.keyrelay.domains.DomainName;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.DomainSpec;
import io.keyrelay.domains.DomainVerifier;
import io.keyrelay.domains.SendingDomain;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The console's Sending Domains page under {@value #DOMAINS}: the domains in the signed-in key's scope with status
 * badges, a form to add one, and each domain's page with the records to publish (each with a copy button), Verify
 * and Delete. Reads need {@code sending_domains/view} or {@code /manage}, changes {@code /manage}; tenancy is the
 * API's ({@link KeyScope}; a subaccount sees the primary account's shared domains without changing them). Every
 * change goes through {@link DomainService} with the signed-in key as the actor.
 */
final class ConsoleDomainRoutes {
    static final String DOMAINS = ConsoleRoutes.BASE + "/sending-domains";

    private final DomainService domains;
    private final ConsoleSessions sessions;
    private final ConsoleRoutes pages;

    ConsoleDomainRoutes(DomainService domains, ConsoleSessions sessions, ConsoleRoutes pages) {
        this.domains = domains;
        this.sessions = sessions;
        this.pages = pages;
    }

    void register(RoutesConfig routes) {
        routes.get(DOMAINS, this::list);
        routes.post(DOMAINS, this::create);
        routes.get(DOMAINS + "/{domain}", this::show);
        routes.post(DOMAINS + "/{domain}/verify", this::verify);
        routes.post(DOMAINS + "/{domain}/delete", this::delete);
    }

    private void list(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.VIEW_DOMAINS);
        listPage(ctx, 200, s, null, Map.of());
    }

    private void listPage(Context ctx, int status, ConsoleSessions.SignedIn s, String error, Map<String, String> form) {
        KeyScope scope = KeyScope.of(s.caller(), null);
        List<SendingDomain> found = scope.all() ? domains.list() : domains.list(scope.subaccountId(), true);
        List<Map<String, Object>> rows = found.stream().map(d -> row(d, scope)).toList();
        pages.page(ctx, status, "domains", "Sending Domains", s, ConsoleRoutes.model("domains", rows,
                "empty", rows.isEmpty(), "manageDomains", s.caller().can(Access.MANAGE_DOMAINS), "error", error,
                "form", form, "ownKeyOpen", !form.getOrDefault("dkim_selector", "").isEmpty(),
                "subaccountOnly", scope.subaccountId()));
    }

    private void create(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.MANAGE_DOMAINS);
        sessions.verifyForm(ctx, s.session());
        String domain = Objects.requireNonNullElse(ctx.formParam("domain"), "").strip();
        boolean shared = ctx.formParam("shared") != null;
        boolean ed25519 = ctx.formParam("ed25519") != null;
        String length = Objects.requireNonNullElse(ctx.formParam("key_length"), "2048");
        String selector = Objects.requireNonNullElse(ctx.formParam("dkim_selector"), "").strip();
        String privateKey = Objects.requireNonNullElse(ctx.formParam("dkim_private"), "");
        String publicKey = Objects.requireNonNullElse(ctx.formParam("dkim_public"), "");
        // The owner's own key, when one is given; a refused form comes back without it (never echoed).
        DkimImport own = selector.isEmpty() && privateKey.isBlank() ? null
                : new DkimImport(selector, privateKey, publicKey.isBlank() ? null : publicKey);
        Map<String, String> form = new HashMap<>(Map.of("domain", domain, "dkim_selector", selector));
        KeyScope scope = KeyScope.of(s.caller(), null);
        SendingDomain d;
        try {
            int bits = switch (length) {
                case "1024" -> 1024;
                case "2048" -> 2048;
                default -> throw new DomainException(DomainException.Kind.INVALID, "dkim_key_length",
                        "Key length: " + length + " is not 1024 or 2048");
            };
            d = domains.create(new DomainSpec(domain, scope.subaccountForNewKeys(), shared, true, bits, ed25519, own),
                    s.caller().actor());
        } catch (DomainException e) {
            listPage(ctx, e.kind() == DomainException.Kind.CONFLICT ? 409 : 422, s, e.getMessage(), form);
            return;
        }
        ctx.redirect(path(d.name()) + "?added", HttpStatus.SEE_OTHER);
    }

    private void show(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.VIEW_DOMAINS);
        KeyScope scope = KeyScope.of(s.caller(), null);
        SendingDomain d = visible(ctx, scope);
        String notice = ctx.queryParam("added") != null ? "Sending domain added. Publish the DNS record below, then"
                + " press Verify." : ctx.queryParam("verified") != null ? "The DKIM record is published: the domain is"
                + " verified." : null;
        domainPage(ctx, 200, s, d, scope, notice, null, List.of());
    }

    private void verify(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.MANAGE_DOMAINS);
        sessions.verifyForm(ctx, s.session());
        KeyScope scope = KeyScope.of(s.caller(), null);
        SendingDomain d = owned(ctx, scope);
        DomainVerifier.Verification v = domains.verify(d.name(), s.caller().actor());
        if (v.domain().dkimStatus() == DkimStatus.VALID && v.error() == null) {
            ctx.redirect(path(d.name()) + "?verified", HttpStatus.SEE_OTHER);
            return;
        }
        List<Map<String, Object>> checks = v.checks().stream().map(c -> Map.<String, Object>of(
                "result", c.outcome().wireName(), "detail", c.detail())).toList();
        domainPage(ctx, 200, s, v.domain(), scope, null, "Not verified yet: " + v.error(), checks);
    }

    private void delete(Context ctx) {
        ConsoleSessions.SignedIn s = signedIn(ctx, Access.MANAGE_DOMAINS);
        sessions.verifyForm(ctx, s.session());
        SendingDomain d = owned(ctx, KeyScope.of(s.caller(), null));
        domains.delete(d.name(), s.caller().actor());
        ctx.redirect(DOMAINS, HttpStatus.SEE_OTHER);
    }

    private void domainPage(Context ctx, int status, ConsoleSessions.SignedIn s, SendingDomain d, KeyScope scope,
            String notice, String error, List<Map<String, Object>> checks) {
        List<Map<String, Object>> records = new java.util.ArrayList<>();
        int i = 0;
        for (DkimKey k : d.keys()) {
            Map<String, Object> r = new HashMap<>();
            r.put("id", "record-" + i++);
            r.put("name", k.recordName());
            r.put("value", k.recordValue());
            r.put("algorithm", k.algorithm().signatureAlgorithm() + " " + k.bits());
            r.put("pending", k.state() == DkimKey.State.PENDING);
            r.put("status", k.status().wireName());
            records.add(r);
        }
        boolean changeable = s.caller().can(Access.MANAGE_DOMAINS)
                && (scope.all() || Objects.equals(d.subaccountId(), scope.subaccountId()));
        pages.page(ctx, status, "domain", d.name().unicode(), s, ConsoleRoutes.model("domain", row(d, scope),
                "records", records, "hasRecords", !records.isEmpty(), "changeable", changeable, "notice", notice,
                "error", error, "checks", checks, "hasChecks", !checks.isEmpty()));
    }

    /** One domain as the pages show it. */
    private static Map<String, Object> row(SendingDomain d, KeyScope scope) {
        Map<String, Object> m = new HashMap<>();
        m.put("ascii", d.name().ascii());
        m.put("unicode", d.name().isInternational() ? d.name().unicode() : null);
        m.put("path", path(d.name()));
        m.put("account", d.subaccountId() == null ? "Primary account" : "Subaccount " + d.subaccountId());
        m.put("shared", d.sharedWithSubaccounts());
        m.put("sharedFromPrimary", !scope.all() && d.subaccountId() == null);
        m.put("dkimStatus", d.keys().isEmpty() ? "none" : d.dkimStatus().wireName());
        m.put("verified", d.ownershipVerified());
        m.put("lastChecked", d.lastCheckedAt() == null ? "never"
                : d.lastCheckedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        m.put("rotating", !d.pending().isEmpty());
        return m;
    }

    private ConsoleSessions.SignedIn signedIn(Context ctx, Access access) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        if (!s.caller().can(access)) {
            throw ApiError.FORBIDDEN.with("The key you signed in with does not hold " + access.grantNames() + ".");
        }
        return s;
    }

    private SendingDomain visible(Context ctx, KeyScope scope) {
        String text = ctx.pathParam("domain");
        SendingDomain d;
        try {
            d = domains.get(text);
        } catch (DomainException e) {
            throw ApiError.NOT_FOUND.with("No sending domain " + text.strip() + ".");
        }
        if (!scope.all() && !d.usableBy(scope.subaccountId())) {
            throw ApiError.NOT_FOUND.with("No sending domain " + d.name() + ".");
        }
        return d;
    }

    private SendingDomain owned(Context ctx, KeyScope scope) {
        SendingDomain d = visible(ctx, scope);
        if (!scope.all() && !Objects.equals(d.subaccountId(), scope.subaccountId())) {
            throw ApiError.FORBIDDEN.with(d.name() + " belongs to the primary account; only the primary account can"
                    + " change it.");
        }
        return d;
    }

    private static String path(DomainName name) {
        return DOMAINS + "/" + URLEncoder.encode(name.ascii(), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
    }
}
