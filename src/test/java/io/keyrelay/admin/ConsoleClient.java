package io.keyrelay.admin;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal browser for the console over plain HTTP: it keeps the session cookie, follows nothing by itself, and
 * posts forms with the page's CSRF token, so tests can also leave the token out or forge the origin.
 */
final class ConsoleClient {
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");
    private final AdminFixture f;
    private String cookie;
    private String csrf;

    ConsoleClient(AdminFixture f) {
        this.f = f;
    }

    HttpResponse<String> signIn(String key) {
        HttpResponse<String> r = post("/console/sign-in", List.of("key", key), false, null);
        r.headers().firstValue("Set-Cookie").ifPresent(c -> cookie = c.substring(0, c.indexOf(';')));
        return r;
    }

    HttpResponse<String> get(String path) {
        HttpRequest.Builder b = f.request(path, null).GET();
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        HttpResponse<String> r = f.send(b.build());
        Matcher m = CSRF.matcher(r.body());
        if (m.find()) {
            csrf = m.group(1);
        }
        return r;
    }

    /** Posts a form with the CSRF token of the last page fetched. */
    HttpResponse<String> submit(String path, List<String> fields) {
        return post(path, fields, true, null);
    }

    HttpResponse<String> post(String path, List<String> fields, boolean withCsrf, String origin) {
        List<String> all = new ArrayList<>(fields);
        if (withCsrf && csrf != null) {
            all.add("csrf");
            all.add(csrf);
        }
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < all.size(); i += 2) {
            body.append(body.isEmpty() ? "" : "&").append(URLEncoder.encode(all.get(i), StandardCharsets.UTF_8))
                    .append('=').append(URLEncoder.encode(all.get(i + 1), StandardCharsets.UTF_8));
        }
        HttpRequest.Builder b = f.request(path, null).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        return f.send(b.build());
    }

    String cookie() {
        return cookie;
    }

    void cookie(String c) {
        cookie = c;
    }

    static Optional<String> location(HttpResponse<String> r) {
        return r.headers().firstValue("Location");
    }
}
