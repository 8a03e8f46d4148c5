package io.keyrelay.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.keyrelay.domains.DomainService;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.limits.SendingLimits;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The web console under {@value #BASE}: sign in with an admin key, list keys (filtered by status), create one, view,
 * edit and revoke. Creating answers the form with a redirect to the new key's "created" page (POST–redirect–GET),
 * which shows the secret once, from the session's memory ({@link ConsoleSession#holdSecret}); a reload or Back shows
 * that page without it and creates nothing. Plain HTML forms, so it
 * works without JavaScript; the small script adds "select all" and the copy button. Every change goes through
 * {@link KeyService} with the signed-in key as the actor. Keys with {@code api_keys/view} but not
 * {@code api_keys/manage} can look but not change.
 */
final class ConsoleRoutes {
    static final String BASE = "/console";
    static final String ASSETS = BASE + "/assets";
    static final String KEYS = BASE + "/api-keys";
    static final String SIGN_IN = BASE + "/sign-in";

    private final KeyService keys;
    private final ConsoleSessions sessions;
    private final Templates templates;
    private final Clock clock;
    private final Function<ApiKey, SendingLimits> limits;
    private final SmtpEndpoint smtp;

    /** Keys expiring within this are "expiring" in the list's filter. */
    static final java.time.Duration EXPIRING = java.time.Duration.ofDays(30);
    private final DomainService domains;

    private final io.keyrelay.queue.QueueService queue;

    /**
     * {@code domains} (may be null) adds the Sending Domains page and checks the domains keys are narrowed to;
     * {@code queue} (null in passthrough mode) adds the Queue page.
     */
    ConsoleRoutes(KeyService keys, ConsoleSessions sessions, Templates templates, Clock clock,
            Function<ApiKey, SendingLimits> limits, SmtpEndpoint smtp, DomainService domains,
            io.keyrelay.queue.QueueService queue) {
        this.queue = queue;
        this.limits = limits;
        this.smtp = smtp;
        this.domains = domains;
        this.keys = keys;
        this.sessions = sessions;
        this.templates = templates;
        this.clock = clock;
    }

    void register(RoutesConfig routes) {
        routes.get("/", ctx -> ctx.redirect(KEYS));
        routes.get(BASE, ctx -> ctx.redirect(KEYS));
        routes.get(SIGN_IN, ctx -> signInPage(ctx, 200, null, null));
        routes.post(SIGN_IN, this::signIn);
        routes.post(BASE + "/sign-out", this::signOut);
        routes.get(KEYS, this::list);
        routes.get(KEYS + "/new", this::newKey); // before {id}: the first matching route wins
        routes.post(KEYS, this::create);
        routes.get(KEYS + "/{id}", this::show);
        routes.get(KEYS + "/{id}/created", this::created);
        routes.post(KEYS + "/{id}", this::update);
        routes.post(KEYS + "/{id}/revoke", this::revoke);
        if (domains != null) {
            new ConsoleDomainRoutes(domains, sessions, this).register(routes);
        }
        if (queue != null) {
            new ConsoleQueueRoutes(queue, sessions, this).register(routes);
        }
        routes.exception(SignInRequired.class, (e, ctx) -> {
            String target = SIGN_IN + (e.notice() == null ? "" : "?expired");
            ctx.redirect(target, HttpStatus.SEE_OTHER);
        });
    }

    // ---- sign-in ----

    private void signInPage(Context ctx, int status, String error, String notice) {
        String n = notice != null ? notice
                : ctx.queryParam("expired") != null ? "Your session ended. Sign in again."
                : ctx.queryParam("signed-out") != null ? "You are signed out." : null;
        page(ctx, status, "sign-in", "Sign in", null, model("error", error, "notice", n));
    }

    private void signIn(Context ctx) {
        sessions.verifyOrigin(ctx);
        String key = ctx.formParam("key");
        if (key == null || key.isBlank()) {
            signInPage(ctx, 401, "Enter an API key.", null);
            return;
        }
        try {
            sessions.signIn(ctx, key.strip());
        } catch (ApiException e) {
            signInPage(ctx, e.error().status(), switch (e.error()) {
                case FORBIDDEN -> "This key may not sign in to the console here: it needs api_keys/manage or"
                        + " api_keys/view, and its allowed IPs must include this address.";
                case UNAVAILABLE -> "The key store cannot be reached right now. Try again shortly.";
                case TOO_MANY_FAILURES -> "Too many failed sign-ins from this address. Try again later.";
                default -> "That key was not accepted.";
            }, null);
            return;
        }
        ctx.redirect(KEYS, HttpStatus.SEE_OTHER);
    }

    private void signOut(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        sessions.verifyForm(ctx, s.session());
        sessions.signOut(ctx);
        ctx.redirect(SIGN_IN + "?signed-out", HttpStatus.SEE_OTHER);
    }

    // ---- keys ----

    private void list(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        Instant now = clock.instant();
        KeyFilter filter = KeyFilter.of(ctx.queryParam("status"));
        List<ApiKey> all = KeyScope.of(s.caller(), null).list(keys);
        List<Map<String, Object>> rows = all.stream()
                .filter(k -> filter.matches(k, now, EXPIRING))
                .sorted(Comparator.comparing(ApiKey::createdAt).reversed())
                .map(k -> ConsoleViews.key(k, now))
                .toList();
        page(ctx, 200, "keys", "API Keys", s, model("keys", rows, "empty", all.isEmpty(),
                "noMatch", !all.isEmpty() && rows.isEmpty(), "filters", KeyFilter.links(filter), "wide", true));
    }

    private void newKey(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        requireManage(s);
        keyForm(ctx, 200, s, KeyForm.blank(), null);
    }

    private void create(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        sessions.verifyForm(ctx, s.session());
        requireManage(s);
        KeyForm form = KeyForm.from(ctx);
        CreatedKey created;
        try {
            Long subaccount = s.caller().key().subaccountId() == null ? form.subaccountId() : null;
            KeyScope scope = KeyScope.of(s.caller(), subaccount);
            KeySpec spec = form.toSpec(scope.subaccountForNewKeys());
            s.caller().requireCanHandOut(spec.grants(), Set.of());
            created = keys.create(spec, s.caller().actor(), KeyRestrictions.of(s.caller().key(), limits, domains));
        } catch (KeyValidationException e) {
            keyForm(ctx, 422, s, form, KeyForm.describe(e));
            return;
        } catch (ApiException e) {
            keyForm(ctx, e.error().status(), s, form, e.description());
            return;
        }
        // POST–redirect–GET: a reload or Back then repeats the GET, never this POST.
        s.session().holdSecret(created.key().id(), created.secret(), clock.instant());
        ctx.redirect(KEYS + "/" + created.key().id() + "/created", HttpStatus.SEE_OTHER);
    }

    /** The new key's page: its secret the first time (held for this one view), only its details after that. */
    private void created(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        ApiKey key = find(ctx, s);
        String secret = s.session().takeSecret(key.id(), clock.instant()).orElse(null);
        Map<String, Object> m = model("key", ConsoleViews.key(key, clock.instant(), limits.apply(key)),
                "secret", secret, "shownBefore", secret == null, "smtp", smtpModel(key));
        page(ctx, 200, "key-created", secret != null ? "API key created" : key.label(), s, m);
    }

    /** How to send with the key: host, ports, username; null when the key cannot send or the endpoint is unknown. */
    private Map<String, Object> smtpModel(ApiKey key) {
        if (smtp == null || !key.has(io.keyrelay.keys.Grant.SMTP_INJECT)) {
            return null;
        }
        String user = smtp.usernames().get(0)
                + (key.subaccountId() == null ? "" : ":X-MSYS-SUBACCOUNT=" + key.subaccountId());
        return model("host", smtp.host(), "port", smtp.port(), "starttls", smtp.starttls(),
                "implicitTlsPort", smtp.implicitTlsPort() == 0 ? null : smtp.implicitTlsPort(), "username", user);
    }

    private void show(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        ApiKey key = find(ctx, s);
        Map<String, Object> view = ConsoleViews.key(key, clock.instant(), limits.apply(key));
        keyPage(ctx, 200, s, key, view, KeyForm.of(key, view), null,
                ctx.queryParam("saved") != null ? "Changes saved." : ctx.queryParam("revoked") != null
                        ? "The key is revoked: SMTP AUTH and API calls with it now fail." : null);
    }

    private void update(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        sessions.verifyForm(ctx, s.session());
        requireManage(s);
        ApiKey key = find(ctx, s);
        Map<String, Object> view = ConsoleViews.key(key, clock.instant());
        KeyForm form = KeyForm.from(ctx);
        try {
            KeyUpdate update = form.toUpdate(key, (String) view.get("expiresDate"));
            update.grants().ifPresent(g -> s.caller().requireCanHandOut(g, key.grants()));
            keys.update(key.id(), update, s.caller().actor(), KeyRestrictions.of(s.caller().key(), limits, domains));
        } catch (KeyValidationException e) {
            keyPage(ctx, 422, s, key, view, form, KeyForm.describe(e), null);
            return;
        } catch (ApiException e) {
            keyPage(ctx, e.error().status(), s, key, view, form, e.description(), null);
            return;
        }
        ctx.redirect(KEYS + "/" + key.id() + "?saved", HttpStatus.SEE_OTHER);
    }

    private void revoke(Context ctx) {
        ConsoleSessions.SignedIn s = sessions.require(ctx);
        sessions.verifyForm(ctx, s.session());
        requireManage(s);
        ApiKey key = find(ctx, s);
        keys.revoke(key.id(), s.caller().actor());
        if (key.id().equals(s.session().keyId())) {
            // Revoked the key this session signed in with: the session ends with it.
            sessions.signOut(ctx);
            ctx.redirect(SIGN_IN + "?expired", HttpStatus.SEE_OTHER);
            return;
        }
        ctx.redirect(KEYS + "/" + key.id() + "?revoked", HttpStatus.SEE_OTHER);
    }

    // ---- helpers ----

    private ApiKey find(Context ctx, ConsoleSessions.SignedIn s) {
        String id = ctx.pathParam("id");
        ApiKey key = keys.get(id);
        if (!KeyScope.of(s.caller(), null).contains(key)) {
            throw KeysApi.notFound(id);
        }
        return key;
    }

    private static void requireManage(ConsoleSessions.SignedIn s) {
        if (!s.caller().can(Access.MANAGE_KEYS)) {
            throw ApiError.FORBIDDEN.with("The key you signed in with can view keys but not change them"
                    + " (it lacks api_keys/manage).");
        }
    }

    private void keyForm(Context ctx, int status, ConsoleSessions.SignedIn s, KeyForm form, String error) {
        Long own = s.caller().key().subaccountId();
        page(ctx, status, "key-new", "Create API Key", s, model(
                "form", form,
                "grantChoices", ConsoleViews.grantChoices(form.checkedGrants(), s.caller().key(), Set.of()),
                "ownSubaccount", own,
                "error", error));
    }

    private void keyPage(Context ctx, int status, ConsoleSessions.SignedIn s, ApiKey key, Map<String, Object> view,
            KeyForm form, String error, String notice) {
        boolean manage = s.caller().can(Access.MANAGE_KEYS);
        page(ctx, status, "key", key.label(), s, model(
                "key", view,
                "form", form,
                "grantChoices", ConsoleViews.grantChoices(form.checkedGrants(), s.caller().key(), key.grants()),
                "editable", manage && !key.isRevoked(),
                "error", error,
                "notice", notice,
                "self", key.id().equals(s.session().keyId())));
    }

    /** Renders a page inside the layout; {@code s} is null on the sign-in page. */
    void page(Context ctx, int status, String template, String title, ConsoleSessions.SignedIn s,
            Map<String, Object> model) {
        model.put("title", title);
        model.put("domainsEnabled", domains != null);
        model.put("queueEnabled", queue != null);
        if (s != null) {
            ApiKey k = s.caller().key();
            model.put("user", Map.of("label", k.label(), "shortKey", k.shortKey()));
            model.put("csrf", s.session().csrfToken());
            model.put("canManage", s.caller().can(Access.MANAGE_KEYS));
        }
        ctx.status(status).html(templates.render(template, model));
    }

    /** The console's error page (also used by {@link ErrorResponses} for failures inside {@value #BASE}). */
    void errorPage(Context ctx, int status, String message) {
        ctx.status(status).html(templates.render("error", model("title", "Error " + status, "status", status,
                "message", message)));
    }

    static Map<String, Object> model(Object... pairs) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
