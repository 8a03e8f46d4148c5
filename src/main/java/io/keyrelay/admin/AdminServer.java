package io.keyrelay.admin;

import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.tls.TlsContexts;
import java.net.InetAddress;
import java.net.URI;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server: the SparkPost-shaped key API ({@code /api/v1/api-keys}), the web console
 * ({@code /console}), {@code /healthz}, {@code /readyz} and Prometheus {@code /metrics}, on one port that binds to
 * {@code admin.listen} (loopback by default).
 *
 * <p>Built on Javalin (Jetty underneath) with request handling on virtual threads. {@link #start()} binds before it
 * returns; {@link #port()} then gives the port, also when port 0 (ephemeral) was asked for.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** Request bodies are small JSON objects and forms; anything bigger is refused with 413. */
    static final long MAX_REQUEST_BYTES = 64 * 1024;

    private final Javalin app;
    private final InetAddress listen;
    private final int requestedPort;
    private final boolean https;

    /**
     * An admin server on {@code admin.listen}:{@code admin.port}.
     *
     * @throws IllegalArgumentException when {@code admin.port} is 0, which turns the admin server off
     */
    public AdminServer(RelayConfig.Admin config, AdminContext ctx) {
        this(config, ctx, requireEnabled(config), null);
    }

    /**
     * An admin server on {@code admin.listen}:{@code admin.port} that serves HTTPS, when {@code admin.tls} is on,
     * with {@code tls} — the relay's own context, which follows certificate renewals — instead of a context of its
     * own read once from the files.
     */
    public AdminServer(RelayConfig.Admin config, AdminContext ctx, SSLContext tls) {
        this(config, ctx, requireEnabled(config), tls);
    }

    private AdminServer(RelayConfig.Admin config, AdminContext ctx, int port, SSLContext tls) {
        this.listen = config.listen();
        this.requestedPort = port;
        this.https = config.tls().enabled();
        this.app = build(config, ctx, port, tls);
    }

    /**
     * An admin server on {@code admin.listen} and the given port instead of {@code admin.port} (0: an ephemeral
     * port, as tests and harnesses want).
     */
    public static AdminServer onPort(RelayConfig.Admin config, AdminContext ctx, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a port");
        }
        return new AdminServer(config, ctx, port, null);
    }

    private static int requireEnabled(RelayConfig.Admin config) {
        if (!config.enabled()) {
            throw new IllegalArgumentException("admin.port is 0: the admin server is turned off");
        }
        return config.port();
    }

    private static Javalin build(RelayConfig.Admin config, AdminContext ctx, int port, SSLContext given) {
        AdminMeters meters = new AdminMeters(ctx.registry());
        AdminAuth auth = new AdminAuth(ctx.authenticator(), meters, ctx.throttle());
        Templates templates = new Templates();
        ConsoleSessions sessions = new ConsoleSessions(auth, ctx.clock(), config.sessionTimeout());
        ConsoleRoutes console = new ConsoleRoutes(ctx.keys(), sessions, templates, ctx.clock(), ctx.limits(),
                ctx.smtp(), ctx.domains(), ctx.queue());
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.startup.startupWatcherEnabled = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
            cfg.http.prefer405over404 = true;
            cfg.jsonMapper(new JavalinJackson(Json.MAPPER, true));
            cfg.jetty.host = config.listen().getHostAddress();
            cfg.jetty.port = port;
            if (config.tls().enabled()) {
                SSLContext tls = given != null ? given : TlsContexts.server(config.tls().cert(), config.tls().key());
                cfg.jetty.addConnector((server, http) -> httpsConnector(server, http, tls, config.listen(), port));
            }
            cfg.jetty.modifyServletContextHandler(h -> {
                h.setSessionHandler(sessions.jettySessionHandler());
                h.addFilter(new MethodOverrideOff(), "/*", java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST));
            });
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = ConsoleRoutes.ASSETS;
                sf.directory = "/admin/assets";
                sf.location = Location.CLASSPATH;
                sf.headers = Map.of("Cache-Control", "no-cache");
            });
            cfg.requestLogger.http(new RequestLog(meters));
            cfg.routes.before(new SecurityHeaders());
            new HealthEndpoints(ctx.readiness()).register(cfg.routes);
            new MetricsEndpoint(ctx.registry(), auth).register(cfg.routes);
            new KeysApi(ctx.keys(), auth, ctx.clock(), ctx.limits(), ctx.domains()).register(cfg.routes);
            if (ctx.domains() != null) {
                new SendingDomainsApi(ctx.domains(), auth).register(cfg.routes);
            }
            if (ctx.queue() != null) {
                new QueueApi(ctx.queue(), auth).register(cfg.routes);
            }
            console.register(cfg.routes);
            new ErrorResponses(console::errorPage).register(cfg.routes);
        });
    }

    /**
     * An HTTPS connector with the SMTP certificate, TLS 1.2 and 1.3 only. The SNI host check is off: clients reach
     * the admin port by whatever name or address the operator chose, which need not be in the certificate.
     */
    private static ServerConnector httpsConnector(Server server, HttpConfiguration http, SSLContext tls,
            InetAddress listen, int port) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls);
        ssl.setIncludeProtocols(TlsContexts.PROTOCOLS);
        ssl.setSniRequired(false);
        HttpConfiguration https = new HttpConfiguration(http);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector c = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(https));
        c.setHost(listen.getHostAddress());
        c.setPort(port);
        return c;
    }

    /** Binds and starts serving; returns this. */
    public AdminServer start() {
        app.start();
        log.info("admin server listening on {} (API /api/v1/api-keys, console /console, /healthz, /readyz, /metrics)",
                baseUri());
        return this;
    }

    /** The bound port (after {@link #start()}). */
    public int port() {
        return app.port();
    }

    /** {@code http(s)://<listen>:<port>}, for logs and tests. */
    public URI baseUri() {
        String host = listen.getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create((https ? "https" : "http") + "://" + host + ":" + port());
    }

    @Override
    public void close() {
        app.stop();
    }

    @Override
    public String toString() {
        return "AdminServer[" + listen.getHostAddress() + ":" + requestedPort + "]";
    }
}
