package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static io.keyrelay.admin.HealthAndMetricsIT.value;
import static org.awaitility.Awaitility.await;

import io.keyrelay.keys.CreatedKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.HeadlessChromium;
import io.keyrelay.testing.RawSmtpClient;
import io.keyrelay.testing.RelayHarness;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console end to end, as an operator uses it: a real headless Chromium signs in, creates a key with two
 * permissions, an allowed IP and a sending limit, reads the key shown once, sends a message through the running
 * relay with it (the limit refuses a second one), sees only its first four characters afterwards, revokes it, and
 * SMTP AUTH with it then fails. The relay, its
 * key store, GreenMail downstream and the admin server all run for real on free ports.
 */
class ConsoleBrowserIT {
    @TempDir
    Path dir;

    private RelayHarness relay;
    private AdminServer admin;
    private ChromeDriver browser;
    private WebDriverWait wait;

    @BeforeEach
    void start() {
        relay = RelayHarness.builder(dir.resolve("relay")).passthrough().start();
        var rt = relay.runtime();
        AdminContext ctx = new AdminContext(rt.keyService(), rt.authenticator(), rt.registry(),
                Readiness.allOf(List.of(Readiness.check("key store unreachable", rt.keyStore()::ping),
                        Readiness.check("SMTP not listening", rt::smtpListening))),
                Clock.systemUTC()).withSmtp(new SmtpEndpoint(relay.config().smtp().hostname(), rt.smtpPort(), true, 0,
                        relay.config().smtp().auth().usernames()));
        admin = AdminServer.onPort(relay.config().admin(), ctx, 0).start();
        browser = HeadlessChromium.start(dir, origin());
        wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (admin != null) {
            admin.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    private String origin() {
        return admin.baseUri().toString();
    }

    private void open(String path) {
        browser.get(origin() + path);
    }

    private WebElement byId(String id) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(By.id(id)));
    }

    @Test
    void operatorCreatesAKey_sendsWithIt_seesOnlyItsFirstFourCharacters_revokesIt_andSmtpAuthFails() throws Exception {
        CreatedKey operator = relay.createKey("operator", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT,
                Grant.METRICS_VIEW);

        // Sign in.
        open("/console/");
        byId("key").sendKeys(operator.secret());
        byId("sign-in").click();
        wait.until(ExpectedConditions.urlToBe(origin() + "/console/api-keys"));
        assertThat(browser.getTitle()).isEqualTo("API Keys · keyrelay");
        assertThat(browser.manage().getCookieNamed("keyrelay_session").isHttpOnly()).isTrue();

        // Create a key with two permissions and one allowed IP; "Select all" ticks every permission first.
        byId("create-key").click();
        byId("label").sendKeys("newsletter");
        byId("grants-all").click();
        assertThat(browser.findElements(By.cssSelector("input[name=grants]:checked"))).hasSize(3);
        byId("grants-all").click();
        assertThat(browser.findElements(By.cssSelector("input[name=grants]:checked"))).isEmpty();
        byId("grant-smtp-inject").click();
        byId("grant-metrics-view").click();
        byId("valid_ips").sendKeys("127.0.0.1");
        byId("messages_per_minute").sendKeys("1");
        screenshot("console-create-key.png");
        byId("create").click();

        // The key, shown this one time, with a copy button, on a page reached by a redirect (POST–redirect–GET).
        String secret = byId("new-key").getText();
        assertThat(browser.getCurrentUrl()).endsWith("/created");
        assertThat(byId("smtp-username").getText()).isEqualTo("SMTP_Injection");
        assertThat(byId("smtp-port").getText()).isEqualTo(Integer.toString(relay.runtime().smtpPort()));
        assertThat(byId("smtp-host").getText()).isEqualTo(relay.config().smtp().hostname());
        screenshot("console-key-created.png");
        assertThat(secret).matches("[0-9a-f]{40}");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("ONE TIME ONLY");
        byId("copy-key").click();
        wait.until(ExpectedConditions.textToBe(By.id("copy-key"), "Copied"));
        Object clipboard = browser.executeAsyncScript(
                "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('error: ' + e));");
        assertThat(clipboard).isEqualTo(secret);

        // Send a message through the relay with it; its limit of one a minute refuses a second.
        String content = "From: a@example.com\r\nTo: b@example.net\r\nSubject: console test\r\n\r\nHello.\r\n";
        try (RawSmtpClient c = relay.authenticated(secret)) {
            c.send("a@example.com", List.of("b@example.net"), content.getBytes(StandardCharsets.US_ASCII))
                    .assertCode(250);
            assertThat(c.command("MAIL FROM:<a@example.com>").assertCode(451).text()).contains("1 messages per minute");
            c.command("QUIT");
        }
        assertThat(relay.greenMail().waitForIncomingEmail(10_000, 1)).isTrue();
        MimeMessage received = relay.greenMail().getReceivedMessages()[0];
        assertThat(received.getSubject()).isEqualTo("console test");

        // Leave the page and reload the list: only the first four characters remain.
        byId("done").click();
        wait.until(ExpectedConditions.urlToBe(origin() + "/console/api-keys"));
        browser.navigate().refresh();
        WebElement row = wait.until(ExpectedConditions.visibilityOfElementLocated(
                By.xpath("//table[@id='keys']//tr[td[@class='name']/a[text()='newsletter']]")));
        assertThat(row.findElement(By.cssSelector("td.short")).getText()).isEqualTo(secret.substring(0, 4) + "••••");
        assertThat(row.findElement(By.cssSelector("td.grants")).getText()).contains("metrics/view", "smtp/inject");
        assertThat(row.findElement(By.cssSelector("td.ips")).getText()).isEqualTo("127.0.0.1");
        assertThat(browser.getPageSource()).doesNotContain(secret);
        screenshot("console-key-list.png");
        // Readable on a narrow screen: the page itself never scrolls sideways (only the table, inside its box).
        browser.manage().window().setSize(new Dimension(420, 900));
        assertThat((Boolean) browser.executeScript(
                "return document.documentElement.scrollWidth <= window.innerWidth;")).isTrue();
        assertThat(byId("create-key").isDisplayed()).isTrue();
        browser.manage().window().setSize(new Dimension(1400, 1000));

        // Its page shows the limit it was given, and the others at the relay's default.
        row.findElement(By.cssSelector("td.name a")).click();
        assertThat(byId("key-limits").getText()).contains("Messages per minute: 1",
                "Messages per day (UTC): Relay default (", "Recipients per message: Relay default ("
                        + relay.config().smtp().maxRecipients() + ")");
        assertThat(byId("messages_per_minute").getAttribute("value")).isEqualTo("1");

        // Revoke it, confirming the dialog.
        byId("revoke").click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.textToBe(By.id("key-status"), "revoked"));
        assertThat(byId("notice").getText()).contains("revoked");

        // SMTP AUTH with the revoked key fails.
        try (RawSmtpClient c = relay.connect()) {
            c.expect(220);
            c.ehlo();
            c.startTls(relay.clientTls());
            c.ehlo();
            c.command("AUTH PLAIN " + RawSmtpClient.plain("SMTP_Injection", secret)).assertCode(535);
        }

        // The relay's readiness (store reachable, SMTP listening) as /readyz reports it.
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(origin() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

        // And the counters moved, as /metrics shows them.
        String metrics = scrape(operator.secret());
        assertThat(value(metrics, "keyrelay_messages_total{result=\"delivered\"}")).isEqualTo(1);
        assertThat(value(metrics, "keyrelay_auth_attempts_total{reason=\"none\",result=\"accepted\"}"))
                .isEqualTo(1);
        assertThat(value(metrics, "keyrelay_auth_attempts_total{reason=\"revoked\",result=\"denied\"}"))
                .isEqualTo(1);
        assertThat(value(metrics, "keyrelay_relayed_bytes_total")).isPositive();
        assertThat(value(metrics, "keyrelay_limit_refusals_total{limit=\"messages_per_minute\"}")).isEqualTo(1);
        assertThat(value(metrics, "keyrelay_relay_duration_seconds_count")).isEqualTo(1);
        assertThat(value(metrics, "keyrelay_admin_auth_total{reason=\"none\",result=\"accepted\",surface=\"console\"}"))
                .isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> value(scrape(operator.secret()),
                "keyrelay_smtp_sessions_active") == 0);
    }

    /**
     * Reload and Back on the "API key created" page: neither creates a second key nor shows the secret again (the
     * form's POST answered with a redirect, and the page hands the secret out once).
     */
    @Test
    void createdPage_reloadAndBack_neitherCreateAKeyNorShowTheSecretAgain() throws Exception {
        CreatedKey operator = relay.createKey("operator", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT);
        signIn(operator.secret());
        byId("create-key").click();
        byId("label").sendKeys("billing");
        byId("grant-smtp-inject").click();
        byId("create").click();
        String secret = byId("new-key").getText();
        assertThat(secret).matches("[0-9a-f]{40}");

        browser.navigate().refresh();
        byId("shown-before");
        assertThat(browser.getPageSource()).doesNotContain(secret);
        browser.navigate().back(); // to the form, as it was before the POST: nothing is re-submitted
        wait.until(ExpectedConditions.urlToBe(origin() + "/console/api-keys/new"));
        browser.navigate().forward();
        byId("shown-before");
        assertThat(browser.getPageSource()).doesNotContain(secret);
        assertThat(relay.runtime().keyService().list().stream().filter(k -> k.label().equals("billing"))).hasSize(1);
    }

    /**
     * The key list at a laptop's 1366 px: names and times on one line each, nothing scrolls sideways; at a phone's
     * 390 px every key's status is on screen and the page does not scroll sideways either. Screenshots of both
     * are left under target/ for a person to look at.
     */
    @Test
    void keyList_at1366px_keepsNamesAndTimesOnOneLine_at390px_showsEveryStatus() throws Exception {
        CreatedKey operator = relay.createKey("operator", Grant.API_KEYS_MANAGE, Grant.SMTP_INJECT,
                Grant.METRICS_VIEW);
        for (String label : List.of("newsletter-production", "billing notifications", "password resets (EU)")) {
            relay.createKey(label, Grant.SMTP_INJECT, Grant.TRANSMISSIONS_MODIFY, Grant.METRICS_VIEW);
        }
        signIn(operator.secret());
        browser.manage().window().setSize(new Dimension(1366, 900));
        browser.navigate().refresh();
        byId("keys");
        screenshot("console-key-list-1366.png");
        assertThat((Boolean) browser.executeScript(
                "return document.documentElement.scrollWidth <= window.innerWidth;")).isTrue();
        @SuppressWarnings("unchecked")
        List<Long> lines = (List<Long>) browser.executeScript("""
                const out = [];
                for (const td of document.querySelectorAll('#keys td.name, #keys td.time')) {
                  const lh = parseFloat(getComputedStyle(td).lineHeight) || parseFloat(getComputedStyle(td).fontSize) * 1.3;
                  const r = document.createRange(); r.selectNodeContents(td);
                  out.push(Math.round(r.getBoundingClientRect().height / lh));
                }
                return out;""");
        assertThat(lines).hasSize(4 * 4).allSatisfy(n -> assertThat(n).as("lines per cell").isEqualTo(1L));

        browser.manage().window().setSize(new Dimension(390, 844));
        browser.navigate().refresh();
        byId("keys");
        screenshot("console-key-list-390.png");
        assertThat((Boolean) browser.executeScript(
                "return document.documentElement.scrollWidth <= window.innerWidth;")).isTrue();
        List<WebElement> statuses = browser.findElements(By.cssSelector("#keys .status"));
        assertThat(statuses).hasSize(4);
        for (WebElement st : statuses) {
            assertThat((Boolean) browser.executeScript("const r = arguments[0].getBoundingClientRect();"
                    + " return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;", st)).isTrue();
        }
    }

    /** The filter above the list: active, revoked, expiring soon. */
    @Test
    void keyList_filtersActiveRevokedAndExpiring() {
        CreatedKey operator = relay.createKey("operator", Grant.API_KEYS_MANAGE);
        var keys = relay.runtime().keyService();
        CreatedKey old = relay.createKey("old", Grant.SMTP_INJECT);
        keys.revoke(old.key().id(), io.keyrelay.keys.Actor.SYSTEM);
        keys.create(new io.keyrelay.keys.KeySpec("soon", java.util.Set.of(Grant.SMTP_INJECT),
                io.keyrelay.net.IpAllowlist.ANY, null, java.time.Instant.now().plus(Duration.ofDays(3))),
                io.keyrelay.keys.Actor.SYSTEM);
        signIn(operator.secret());
        byId("filter-revoked").click();
        assertThat(names()).containsExactly("old");
        byId("filter-expiring").click();
        assertThat(names()).containsExactly("soon");
        byId("filter-active").click();
        assertThat(names()).containsExactlyInAnyOrder("operator", "soon");
        byId("filter-all").click();
        assertThat(names()).containsExactlyInAnyOrder("operator", "soon", "old");
    }

    private List<String> names() {
        byId("filters");
        return browser.findElements(By.cssSelector("#keys td.name a")).stream().map(WebElement::getText).toList();
    }

    private void signIn(String key) {
        open("/console/");
        byId("key").sendKeys(key);
        byId("sign-in").click();
        wait.until(ExpectedConditions.urlToBe(origin() + "/console/api-keys"));
    }

    /** Saves what the browser shows under target/, for a person to look at. */
    private void screenshot(String name) throws java.io.IOException {
        Path shot = Path.of("target", name);
        Files.createDirectories(shot.getParent());
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
    }

    private String scrape(String key) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(origin() + "/metrics"))
                .header("Authorization", key).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return io.keyrelay.testing.Scrapes.withoutNode(r.body(), relay.config().cluster().nodeName());
    }
}
