package io.keyrelay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.keys.Grant;
import io.keyrelay.queue.MessageState;
import io.keyrelay.queue.Outcome;
import io.keyrelay.queue.QueueFixture;
import io.keyrelay.queue.QueuedMessage;
import io.keyrelay.testing.HeadlessChromium;
import io.keyrelay.testing.TestDatabases.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * The Queue page end to end in a real headless Chromium over messages put through real delivery attempts: counts
 * by state and the oldest message, search by recipient and by queue id, a message's recipients and attempts, and
 * Hold (dismissed, then confirmed), Release, Retry and Delete, each checked in the store.
 */
class ConsoleQueueBrowserIT {
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

    private MessageState stored(String id) {
        return f.queue.get(id).map(QueuedMessage::state).orElse(null);
    }

    @Test
    void operatorSearchesTheQueue_readsAMessage_andHoldsReleasesRetriesAndDeletes() {
        f = AdminFixture.start(Kind.H2, dir);
        String operator = f.key("operator", Grant.QUEUE_MANAGE, Grant.API_KEYS_VIEW).secret();
        QueueFixture q = new QueueFixture(f.database.dataSource(), f.clock);
        Instant now = f.clock.instant();
        String deferred = q.queue("app@example.com", List.of("a@example.net", "b@example.net"), null, null, null, now);
        q.attempt(deferred, now, "451 4.3.0 try later", Outcome.Kind.DELIVERED, Outcome.Kind.DEFERRED);
        String failed = q.queue("app@example.com", List.of("c@example.net"), null, null, null, now);
        q.attempt(failed, now, "550 5.1.1 no such user", Outcome.Kind.FAILED);
        String queued = q.queue("other@example.org", List.of("d@example.net"), null, null, null, now);

        browser = HeadlessChromium.start(dir, f.server.baseUri().toString());
        wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        browser.get(f.server.baseUri() + "/console/");
        byId("key").sendKeys(operator);
        byId("sign-in").click();
        wait.until(ExpectedConditions.urlContains("/console/api-keys"));
        byId("nav-queue").click();
        wait.until(ExpectedConditions.titleIs("Queue · keyrelay"));

        assertThat(byId("state-all").getText()).isEqualTo("All 3");
        assertThat(byId("state-deferred").getAttribute("data-count")).isEqualTo("1");
        assertThat(byId("state-failed").getAttribute("data-count")).isEqualTo("1");
        assertThat(byId("state-held").getAttribute("data-count")).isEqualTo("0");
        assertThat(byId("oldest").getText()).startsWith("Oldest pending message accepted ")
                .contains(now.toString().substring(0, 16));
        assertThat(byId("messages").findElements(By.cssSelector("tbody tr"))).hasSize(3);

        byId("state-failed").click();
        wait.until(ExpectedConditions.urlContains("state=failed"));
        assertThat(byId("messages").findElements(By.cssSelector("tbody tr"))).singleElement()
                .satisfies(r -> assertThat(r.getAttribute("data-id")).isEqualTo(failed));

        byId("state-all").click();
        wait.until(ExpectedConditions.not(ExpectedConditions.urlContains("state=")));
        byId("q").sendKeys("D@EXAMPLE.NET");
        byId("search").click();
        wait.until(ExpectedConditions.urlContains("q="));
        assertThat(byId("messages").findElements(By.cssSelector("tbody tr"))).singleElement()
                .satisfies(r -> assertThat(r.getText()).contains(queued, "other@example.org", "queued"));
        byId("q").clear();
        byId("q").sendKeys("nobody@nowhere.test");
        byId("search").click();
        assertThat(byId("no-messages").getText()).isEqualTo("No queued messages match.");

        // A queue id in the search box opens the message: its recipients and its attempt.
        byId("q").clear();
        byId("q").sendKeys(deferred.toUpperCase());
        byId("search").click();
        wait.until(ExpectedConditions.urlContains("/console/queue/" + deferred));
        assertThat(byId("state").getText()).isEqualTo("deferred");
        assertThat(byId("last-reply").getText()).isEqualTo("451 4.3.0 try later");
        List<WebElement> rcpts = byId("recipients").findElements(By.cssSelector("tbody tr"));
        assertThat(rcpts).hasSize(2);
        assertThat(rcpts.get(0).getText()).contains("a@example.net", "delivered");
        assertThat(rcpts.get(1).getText()).contains("b@example.net", "pending", "451 4.3.0 try later");
        assertThat(byId("attempts").findElements(By.cssSelector("tbody tr"))).singleElement()
                .satisfies(r -> assertThat(r.getText()).contains("1", "fixture"));
        assertThat(browser.findElements(By.id("release"))).isEmpty();

        // Hold asks first: dismissed, nothing changes; confirmed, the message is held.
        byId("hold").click();
        wait.until(ExpectedConditions.alertIsPresent()).dismiss();
        assertThat(stored(deferred)).isEqualTo(MessageState.DEFERRED);
        byId("hold").click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.urlContains("?done=hold"));
        assertThat(byId("notice").getText()).contains("held until released");
        assertThat(byId("state").getText()).isEqualTo("held");
        assertThat(stored(deferred)).isEqualTo(MessageState.HELD);
        assertThat(browser.findElements(By.id("hold"))).isEmpty();

        byId("release").click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.urlContains("?done=release"));
        assertThat(byId("state").getText()).isEqualTo("deferred");
        assertThat(stored(deferred)).isEqualTo(MessageState.DEFERRED);

        // Retry a failed message: its recipient is pending again.
        browser.get(f.server.baseUri() + "/console/queue/" + failed);
        byId("retry").click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.urlContains("?done=retry"));
        assertThat(byId("state").getText()).isEqualTo("deferred");
        assertThat(byId("recipients").getText()).contains("c@example.net", "pending");

        // Delete: gone from the store and the list.
        browser.get(f.server.baseUri() + "/console/queue/" + queued);
        byId("delete-message").click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.urlContains("?deleted="));
        assertThat(byId("notice").getText()).isEqualTo("Message " + queued + " deleted.");
        assertThat(stored(queued)).isNull();
        assertThat(byId("messages").findElements(By.cssSelector("tbody tr"))).hasSize(2);
        assertThat(f.keys.audit(null, "queue.deleted", null, 5)).singleElement()
                .satisfies(e -> assertThat(e.clientAddress()).isEqualTo("127.0.0.1"));
    }
}
