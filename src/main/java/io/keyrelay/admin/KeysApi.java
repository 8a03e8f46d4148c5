package io.keyrelay.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.keyrelay.domains.DomainService;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.keys.KeyService;
import io.keyrelay.keys.KeySpec;
import io.keyrelay.keys.KeyUpdate;
import io.keyrelay.keys.KeyValidationException;
import io.keyrelay.keys.KeyViews;
import io.keyrelay.limits.SendingLimits;
import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The SparkPost-shaped key API under {@code /api/v1/api-keys} (create, list, retrieve, update, delete) and
 * {@code /api/v1/authenticate/grants}. Reads need {@code api_keys/view} or {@code api_keys/manage}, changes need
 * {@code api_keys/manage}, and a caller can hand out only grants it holds and make no key less restricted than
 * itself ({@link KeyRestrictions}); everything goes through
 * {@link KeyService}. Successful responses are {@code {"results": …}}; the secret appears only in the response to
 * the create call. Delete revokes the key (its record and audit trail stay).
 */
final class KeysApi {
    static final String BASE = "/api/v1/api-keys";
    static final String GRANTS = "/api/v1/authenticate/grants";
    private static final String SURFACE = "api";

    private final KeyService keys;
    private final AdminAuth auth;
    private final Clock clock;
    private final Function<ApiKey, SendingLimits> limits;
    private final DomainService domains;

    /** {@code domains} (may be null) checks the sending domains keys are narrowed to. */
    KeysApi(KeyService keys, AdminAuth auth, Clock clock, Function<ApiKey, SendingLimits> limits,
            DomainService domains) {
        this.domains = domains;
        this.keys = keys;
        this.auth = auth;
        this.clock = clock;
        this.limits = limits;
    }

    void register(RoutesConfig routes) {
        routes.get(BASE, this::list);
        routes.post(BASE, this::create);
        routes.get(BASE + "/{id}", this::retrieve);
        routes.put(BASE + "/{id}", this::update);
        routes.delete(BASE + "/{id}", this::delete);
        routes.get(GRANTS, this::grants);
    }

    /** SparkPost's grant list: every grant this relay knows, as {@code {"key","description"}}. */
    private void grants(Context ctx) {
        caller(ctx, Access.VIEW_KEYS);
        ctx.json(Map.of("results", Arrays.stream(Grant.values())
                .map(g -> Map.of("key", g.wireName(), "description", g.description()))
                .toList()));
    }

    private void list(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_KEYS);
        Grant grant = grantFilter(ctx.queryParam("grant"));
        Instant now = clock.instant();
        List<Map<String, Object>> results = scope.list(keys).stream()
                .filter(k -> grant == null || k.has(grant))
                .map(k -> KeyViews.view(k, now))
                .toList();
        ctx.json(Map.of("results", results));
    }

    private void create(Context ctx) {
        Caller caller = caller(ctx, Access.MANAGE_KEYS);
        Long header = KeyScope.parseSubaccount(ctx.header(KeyScope.SUBACCOUNT_HEADER));
        KeySpec asked = KeyRequests.create(jsonBody(ctx));
        if (header != null && asked.subaccountId() != null && !header.equals(asked.subaccountId())) {
            throw ApiError.INVALID_DATA.with("subaccount_id: " + asked.subaccountId() + " differs from "
                    + KeyScope.SUBACCOUNT_HEADER + ": " + header);
        }
        KeyScope scope = KeyScope.of(caller, asked.subaccountId() != null ? asked.subaccountId() : header);
        caller.requireCanHandOut(asked.grants(), Set.of());
        KeySpec spec = new KeySpec(asked.label(), asked.grants(), asked.validIps(), scope.subaccountForNewKeys(),
                asked.expiresAt(), asked.limits(), asked.sendingDomains());
        CreatedKey created = keys.create(spec, caller.actor(), KeyRestrictions.of(caller.key(), limits, domains));
        ctx.json(Map.of("results", KeyViews.created(created, clock.instant())));
    }

    private void retrieve(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_KEYS);
        ctx.json(Map.of("results", KeyViews.view(find(ctx, scope), clock.instant())));
    }

    private void update(Context ctx) {
        Caller caller = caller(ctx, Access.MANAGE_KEYS);
        ApiKey key = find(ctx, scopeOf(caller, ctx));
        KeyUpdate update = KeyRequests.update(jsonBody(ctx));
        update.grants().ifPresent(g -> caller.requireCanHandOut(g, key.grants()));
        ApiKey updated = keys.update(key.id(), update, caller.actor(), KeyRestrictions.of(caller.key(), limits, domains));
        ctx.json(Map.of("results", KeyViews.view(updated, clock.instant())));
    }

    private void delete(Context ctx) {
        Caller caller = caller(ctx, Access.MANAGE_KEYS);
        keys.revoke(find(ctx, scopeOf(caller, ctx)).id(), caller.actor());
        ctx.status(204);
    }

    /** SparkPost's {@code ?grant=} filter: only keys holding that grant. */
    private static Grant grantFilter(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        try {
            return Grant.of(name);
        } catch (KeyValidationException e) {
            throw ApiError.INVALID_PARAMS.with("grant: " + e.getMessage());
        }
    }

    private Caller caller(Context ctx, Access access) {
        return auth.fromRequest(SURFACE, ctx, access);
    }

    private KeyScope scope(Context ctx, Access access) {
        return scopeOf(caller(ctx, access), ctx);
    }

    /** The caller's scope narrowed by the request's {@code X-MSYS-SUBACCOUNT}. */
    private static KeyScope scopeOf(Caller caller, Context ctx) {
        return KeyScope.of(caller, KeyScope.parseSubaccount(ctx.header(KeyScope.SUBACCOUNT_HEADER)));
    }

    private ApiKey find(Context ctx, KeyScope scope) {
        String id = ctx.pathParam("id");
        ApiKey key = keys.get(id);
        if (!scope.contains(key)) {
            throw notFound(id);
        }
        return key;
    }

    static ApiException notFound(String id) {
        return ApiError.NOT_FOUND.with("no API key with id " + id);
    }

    private static final java.util.regex.Pattern DUPLICATE = java.util.regex.Pattern.compile("Duplicate field '(.*)'");

    private static JsonNode jsonBody(Context ctx) {
        String type = ctx.contentType();
        if (type == null || !Ascii.startsWithIgnoreCase(type, "application/json")) {
            throw ApiError.UNSUPPORTED_MEDIA_TYPE.with("Content-Type: expected application/json, got "
                    + (type == null ? "none" : type));
        }
        try {
            return Json.MAPPER.readTree(ctx.bodyAsBytes());
        } catch (JsonProcessingException e) {
            java.util.regex.Matcher dup = DUPLICATE.matcher(String.valueOf(e.getOriginalMessage()));
            if (dup.matches()) { // {"label":"a","label":"b"}: refused rather than read as whichever came last
                throw ApiError.INVALID_PARAMS.with(dup.group(1) + ": given more than once in the request body");
            }
            throw ApiError.INVALID_PARAMS.with("the request body is not valid JSON"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw ApiError.INVALID_PARAMS.with("the request body could not be read");
        }
    }
}
