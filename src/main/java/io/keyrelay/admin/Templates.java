package io.keyrelay.admin;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.MustacheFactory;
import java.io.StringWriter;
import java.util.Map;

/**
 * The console's HTML templates ({@code src/main/resources/admin/templates/*.mustache}), rendered with
 * mustache.java, whose {@code {{value}}} HTML-escapes everything it inserts; templates never use the unescaped
 * form. Compiled templates are cached by the factory.
 */
final class Templates {
    /** Every page; compiled when the server is built, so a broken template stops the start, not a request. */
    private static final String[] PAGES = {"sign-in", "keys", "key-new", "key-created", "key", "error"};

    private final MustacheFactory factory = new DefaultMustacheFactory("admin/templates");

    Templates() {
        for (String page : PAGES) {
            factory.compile(page + ".mustache");
        }
    }

    String render(String name, Map<String, ?> model) {
        StringWriter out = new StringWriter();
        factory.compile(name + ".mustache").execute(out, model);
        return out.toString();
    }
}
