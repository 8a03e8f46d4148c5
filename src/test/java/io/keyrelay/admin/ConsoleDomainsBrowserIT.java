package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.domains.DkimKey;
import io.keyrelay.domains.DkimStatus;
import io.keyrelay.domains.DnsTxtLookup;
import io.keyrelay.domains.SendingDomain;
import io.keyrelay.keys.ApiKey;
import io.keyrelay.keys.Grant;
import io.keyrelay.testing.Dnsmasq;
import io.keyrelay.testing.FreePorts;
import io.keyrelay.testing.HeadlessChromium;
import io.keyrelay.testing.TestDatabases.Kind;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The Sending Domains page end to end in a real headless Chromium: add a domain, copy the record to publish, press
 * Verify before and after the record is in DNS (a real dnsmasq), see the badges change, and narrow a new key to the
 * domain in the key form — refused for a domain the account does not have.
 */
class ConsoleDomainsBrowserIT {
    @TempDir
    Path dir;

    private AdminFixture f;
    private ChromeDriver browser;
    private WebDriverWait wait;

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (f != null) {
            f.close();
        }
    }

    private WebElement byId(String id) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(By.id(id)));
    }

    private void open(String path) {
        browser.get(f.server.baseUri() + path);
    }

    @Test
    void operatorAddsADomain_copiesItsRecord_verifiesIt_andNarrowsAKeyToIt() {
        int port = FreePorts.pick();
        f = AdminFixture.withDns(Kind.H2, dir, DnsTxtLookup.using(List.of(new InetSocketAddress("127.0.0.1", port)),
                Duration.ofSeconds(3)));
        String operator = f.key("operator", Grant.API_KEYS_MANAGE, Grant.SENDING_DOMAINS_MANAGE, Grant.SMTP_INJECT)
                .secret();
        browser = HeadlessChromium.start(dir, f.server.baseUri().toString());
        wait = new WebDriverWait(browser, Duration.ofSeconds(20));

        open("/console/");
        byId("key").sendKeys(operator);
        byId("sign-in").click();
        wait.until(ExpectedConditions.urlContains("/console/api-keys"));
        byId("nav-domains").click();
        wait.until(ExpectedConditions.titleIs("Sending Domains · keyrelay"));

        // A bad name is refused on the page, with what was typed kept.
        byId("domain").sendKeys("not a domain");
        byId("add").click();
        assertThat(byId("form-error").getText()).contains("is not a domain name");
        assertThat(byId("domain").getAttribute("value")).isEqualTo("not a domain");

        byId("domain").clear();
        byId("domain").sendKeys("Mail.Example.test");
        byId("add").click();
        wait.until(ExpectedConditions.urlContains("/console/sending-domains/mail.example.test"));
        assertThat(byId("notice").getText()).contains("Publish the DNS record");
        assertThat(byId("dkim-status").getText()).isEqualTo("unverified");
        SendingDomain stored = f.domains.get("mail.example.test");
        DkimKey key = stored.primaryKey().orElseThrow();
        assertThat(browser.findElement(By.cssSelector(".record-name")).getText()).isEqualTo(key.recordName());
        assertThat(byId("record-0").getText()).isEqualTo(key.recordValue());
        assertThat(browser.getPageSource()).doesNotContain("v1:").doesNotContain("PRIVATE");

        byId("record-0").findElement(By.xpath("following-sibling::button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector(".copy-record"), "Copied"));
        Object clipboard = browser.executeAsyncScript(
                "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('error: ' + e));");
        assertThat(clipboard).isEqualTo(key.recordValue());

        // Verify before the record is published: the page says what DNS answered.
        try (Dnsmasq dns = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test"))) {
            byId("verify").click();
            assertThat(byId("verify-error").getText()).contains("Not verified yet").contains("NXDOMAIN");
            assertThat(byId("dkim-status").getText()).isEqualTo("unverified");
        }
        try (Dnsmasq dns = Dnsmasq.start(dir, port, new Dnsmasq.Zone().local("test")
                .txt(key.recordName(), key.recordValue()))) {
            byId("verify").click();
            wait.until(ExpectedConditions.urlContains("?verified"));
            assertThat(byId("dkim-status").getText()).isEqualTo("valid");
            assertThat(byId("ownership").getText()).isEqualTo("verified");
        }
        assertThat(f.domains.get("mail.example.test").dkimStatus()).isEqualTo(DkimStatus.VALID);
        byId("back").click();
        WebElement row = byId("domains").findElement(By.cssSelector("tr[data-domain='mail.example.test']"));
        assertThat(row.getText()).contains("valid", "verified", "Primary account");

        // A key narrowed to a domain the account does not have is refused; to this one it is made.
        open("/console/api-keys/new");
        byId("label").sendKeys("billing");
        byId("grant-smtp-inject").click();
        byId("sending_domains").sendKeys("other.example.test");
        byId("create").click();
        assertThat(browser.findElement(By.cssSelector(".error")).getText()).contains("Sending domains:")
                .contains("other.example.test is not a sending domain");
        byId("sending_domains").clear();
        byId("sending_domains").sendKeys("MAIL.example.test");
        byId("create").click();
        byId("new-key");
        ApiKey billing = f.keys.list().stream().filter(k -> k.label().equals("billing")).findFirst().orElseThrow();
        assertThat(billing.sendingDomains()).containsExactly("mail.example.test");
    }
}
