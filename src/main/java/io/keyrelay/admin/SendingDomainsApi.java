package io.keyrelay.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.keyrelay.domains.DkimImport;
import io.keyrelay.domains.DomainException;
import io.keyrelay.domains.DomainName;
import io.keyrelay.domains.DomainService;
import io.keyrelay.domains.DomainSpec;
import io.keyrelay.domains.DomainVerifier;
import io.keyrelay.domains.DomainViews;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.text.Ascii;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * SparkPost's sending-domains API under {@code /api/v1/sending-domains}: create, list, retrieve, update
 * ({@code shared_with_subaccounts}), delete, and {@code /{domain}/verify}. Reads need {@code sending_domains/view} or
 * {@code sending_domains/manage}, changes {@code sending_domains/manage}. Tenancy is the key API's
 * ({@link KeyScope}): a subaccount's key, or a primary key naming a subaccount in {@code X-MSYS-SUBACCOUNT}, works
 * with that subaccount's domains, and sees (never changes) the primary account's shared ones; other domains are
 * treated as if they did not exist. The path's domain may be given in either IDN form.
 */
final class SendingDomainsApi {
    static final String BASE = "/api/v1/sending-domains";
    private static final String SURFACE = "api";

    private final DomainService domains;
    private final AdminAuth auth;

    SendingDomainsApi(DomainService domains, AdminAuth auth) {
        this.domains = domains;
        this.auth = auth;
    }

    void register(RoutesConfig routes) {
        routes.get(BASE, this::list);
        routes.post(BASE, this::create);
        routes.get(BASE + "/{domain}", this::retrieve);
        routes.put(BASE + "/{domain}", this::update);
        routes.delete(BASE + "/{domain}", this::delete);
        routes.post(BASE + "/{domain}/verify", this::verify);
        routes.post(BASE + "/{domain}/rotate-dkim", this::rotate);
    }

    private void list(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_DOMAINS);
        List<SendingDomain> found = scope.all() ? domains.list() : domains.list(scope.subaccountId(), true);
        ctx.json(Map.of("results", found.stream().map(DomainViews::view).toList()));
    }

    private void create(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_DOMAINS);
        KeyScope scope = KeyScope.of(caller, KeyScope.parseSubaccount(ctx.header(KeyScope.SUBACCOUNT_HEADER)));
        JsonNode body = jsonBody(ctx);
        DomainSpec spec = new DomainSpec(requiredText(body, "domain"), scope.subaccountForNewKeys(),
                bool(body, "shared_with_subaccounts", false), bool(body, "generate_dkim", true),
                keyLength(body), bool(body, "ed25519", false), dkimImport(body));
        SendingDomain d = domains.create(spec, caller.actor());
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("message", "Successfully Created domain.");
        results.putAll(DomainViews.view(d));
        ctx.status(200).json(Map.of("results", results));
    }

    private void retrieve(Context ctx) {
        KeyScope scope = scope(ctx, Access.VIEW_DOMAINS);
        ctx.json(Map.of("results", DomainViews.view(visible(ctx, scope))));
    }

    private void update(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_DOMAINS);
        SendingDomain d = owned(ctx, scopeOf(caller, ctx));
        JsonNode body = jsonBody(ctx);
        SendingDomain updated = body.has("shared_with_subaccounts")
                ? domains.update(d.name(), bool(body, "shared_with_subaccounts", false), caller.actor()) : d;
        ctx.json(Map.of("results", DomainViews.view(updated)));
    }

    private void delete(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_DOMAINS);
        domains.delete(owned(ctx, scopeOf(caller, ctx)).name(), caller.actor());
        ctx.status(204);
    }

    /**
     * SparkPost's verify call, {@code {"dkim_verify": true}}: looks the DKIM records up now. The answer carries
     * SparkPost's status fields and {@code dns.dkim_record} / {@code dns.dkim_error}, and keyrelay's {@code checks}
     * (one per key: {@code valid}, {@code wrong_key}, {@code missing}, {@code unavailable}).
     */
    private void verify(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_DOMAINS);
        SendingDomain d = owned(ctx, scopeOf(caller, ctx));
        JsonNode body = jsonBody(ctx);
        if (!bool(body, "dkim_verify", false)) {
            throw ApiError.INVALID_DATA.with("dkim_verify: must be true (keyrelay verifies DKIM records; SparkPost's"
                    + " other verification kinds do not apply)");
        }
        DomainVerifier.Verification v = domains.verify(d.name(), caller.actor());
        ctx.json(Map.of("results", DomainViews.verification(v)));
    }

    /**
     * keyrelay's own call (SparkPost has none): {@code keyrelay domains rotate-dkim} over REST. The body is optional:
     * {@code {"dkim_key_length"?: 1024 | 2048, "dkim"?: {"private", "selector", "public"?}}}. The answer carries the
     * new selector, whether the new key waits for its record ({@code pending}), the records to publish now
     * ({@code dns}) and the domain's view.
     */
    private void rotate(Context ctx) {
        Caller caller = auth.fromRequest(SURFACE, ctx, Access.MANAGE_DOMAINS);
        SendingDomain before = owned(ctx, scopeOf(caller, ctx));
        JsonNode body = ctx.bodyAsBytes().length == 0 ? Json.MAPPER.createObjectNode() : jsonBody(ctx);
        if (body.hasNonNull("dkim") && body.hasNonNull("dkim_key_length")) {
            throw ApiError.INVALID_DATA.with("dkim_key_length: does not apply to an imported key (dkim)");
        }
        Integer length = body.hasNonNull("dkim_key_length") ? keyLength(body) : null;
        DkimImport own = dkimImport(withDomain(body, before));
        SendingDomain d = domains.rotate(before.name(), length, own, caller.actor());
        List<io.keyrelay.domains.DkimKey> fresh = d.keys().stream().filter(k -> !before.keys().contains(k)).toList();
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("message", "Successfully rotated the DKIM key.");
        results.put("selector", fresh.isEmpty() ? null : fresh.get(0).selector());
        results.put("pending", fresh.stream().anyMatch(k -> k.state() == io.keyrelay.domains.DkimKey.State.PENDING));
        results.put("dns", fresh.stream().map(DomainViews::record).toList());
        results.put("domain", DomainViews.view(d));
        ctx.json(Map.of("results", results));
    }

    /** The body with the path's domain as {@code domain}, so {@code dkim.signing_domain} is checked against it. */
    private static JsonNode withDomain(JsonNode body, SendingDomain d) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) body)
                .deepCopy();
        copy.put("domain", d.name().ascii());
        return copy;
    }

    private KeyScope scope(Context ctx, Access access) {
        return scopeOf(auth.fromRequest(SURFACE, ctx, access), ctx);
    }

    private static KeyScope scopeOf(Caller caller, Context ctx) {
        return KeyScope.of(caller, KeyScope.parseSubaccount(ctx.header(KeyScope.SUBACCOUNT_HEADER)));
    }

    /** The path's domain if the scope may see it (its own, or the primary account's shared one); else 404. */
    SendingDomain visible(Context ctx, KeyScope scope) {
        SendingDomain d = lookup(ctx);
        if (scope.all() || d.usableBy(scope.subaccountId())) {
            return d;
        }
        throw notFound(d.name());
    }

    /** The path's domain if the scope may change it: 404 outside the scope, 403 for a shared primary domain. */
    SendingDomain owned(Context ctx, KeyScope scope) {
        SendingDomain d = visible(ctx, scope);
        if (!scope.all() && !Objects.equals(d.subaccountId(), scope.subaccountId())) {
            throw ApiError.FORBIDDEN.with(d.name() + " belongs to the primary account and is shared with"
                    + " subaccounts; only the primary account can change it");
        }
        return d;
    }

    private SendingDomain lookup(Context ctx) {
        String text = ctx.pathParam("domain");
        DomainName name;
        try {
            name = DomainName.parse(text);
        } catch (DomainException e) {
            throw ApiError.NOT_FOUND.with("no sending domain " + text.strip());
        }
        try {
            return domains.get(name.ascii());
        } catch (DomainException e) {
            if (e.kind() == DomainException.Kind.NOT_FOUND) {
                throw notFound(name);
            }
            throw e;
        }
    }

    private static ApiException notFound(DomainName name) {
        return ApiError.NOT_FOUND.with("no sending domain " + name);
    }

    private static String requiredText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull() || (v.isTextual() && v.asText().isBlank())) {
            throw ApiError.REQUIRED_FIELD.with(field + ": is required");
        }
        if (!v.isTextual()) {
            throw ApiError.INVALID_DATA.with(field + ": must be a string");
        }
        return v.asText();
    }

    private static boolean bool(JsonNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiError.INVALID_DATA.with(field + ": must be true or false");
        }
        return v.booleanValue();
    }

    /**
     * SparkPost's {@code dkim} object, the owner's own key: {@code private} (PEM or base64, PKCS#8 or PKCS#1),
     * {@code selector}, and optionally {@code public} (checked against the private key) and {@code headers} (taken
     * and ignored: keyrelay signs its own list, {@link DomainViews#SIGNED_HEADERS}); {@code signing_domain}, if
     * given, must be the domain itself. Null when there is none.
     */
    static DkimImport dkimImport(JsonNode body) {
        JsonNode v = body.get("dkim");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiError.INVALID_DATA.with("dkim: must be an object with private, public and selector");
        }
        String signing = optionalText(v, "signing_domain");
        if (signing != null) {
            String domain = body.path("domain").asText("");
            boolean same;
            try {
                same = DomainName.parse(signing).equals(DomainName.parse(domain));
            } catch (DomainException e) {
                same = false;
            }
            if (!same) {
                throw ApiError.INVALID_DATA.with("dkim.signing_domain: keyrelay signs as the sending domain itself;"
                        + " leave it out or give the domain");
            }
        }
        optionalText(v, "headers");
        return new DkimImport(optionalText(v, "selector"), optionalText(v, "private"), optionalText(v, "public"));
    }

    private static String optionalText(JsonNode object, String field) {
        JsonNode v = object.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.INVALID_DATA.with("dkim." + field + ": must be a string");
        }
        return v.asText();
    }

    private static int keyLength(JsonNode body) {
        JsonNode v = body.get("dkim_key_length");
        if (v == null || v.isNull()) {
            return DomainSpec.DEFAULT_KEY_LENGTH;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw ApiError.INVALID_DATA.with("dkim_key_length: must be 1024 or 2048");
        }
        return v.intValue();
    }

    static JsonNode jsonBody(Context ctx) {
        String type = ctx.contentType();
        if (type == null || !Ascii.startsWithIgnoreCase(type, "application/json")) {
            throw ApiError.UNSUPPORTED_MEDIA_TYPE.with("Content-Type: expected application/json, got "
                    + (type == null ? "none" : type));
        }
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(ctx.bodyAsBytes());
        } catch (JsonProcessingException e) {
            throw ApiError.INVALID_PARAMS.with("the request body is not valid JSON"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw ApiError.INVALID_PARAMS.with("the request body could not be read");
        }
        if (body == null || !body.isObject()) {
            throw ApiError.INVALID_DATA.with("the request body must be a JSON object");
        }
        return body;
    }
}
