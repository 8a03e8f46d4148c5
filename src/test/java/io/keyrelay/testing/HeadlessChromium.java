package io.keyrelay.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven through Debian's chromedriver, for the web console tests. Both binaries are
 * named explicitly, so Selenium Manager never tries to download a driver (there is no network), and Chromium's
 * background networking is off. Each browser gets a fresh profile directory.
 */
public final class HeadlessChromium {
    public static final String CHROMIUM = "/usr/bin/chromium";
    public static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    private HeadlessChromium() {}

    /**
     * Starts a browser with a fresh profile under {@code dir}; {@code clipboardOrigin} (e.g.
     * {@code http://127.0.0.1:8080}) may read and write the clipboard without a prompt.
     */
    public static ChromeDriver start(Path dir, String clipboardOrigin) {
        for (String binary : new String[] {CHROMIUM, CHROMEDRIVER}) {
            if (!Files.isExecutable(Path.of(binary))) {
                throw new IllegalStateException(binary + " is missing: run the tests with scripts/test, which installs"
                        + " Debian's chromium and chromium-driver");
            }
        }
        Path profile;
        try {
            profile = Files.createTempDirectory(dir, "chromium-profile-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--window-size=1400,1000");
        if (clipboardOrigin != null) {
            options.setExperimentalOption("prefs", Map.of("profile.content_settings.exceptions.clipboard",
                    Map.of(clipboardOrigin + ",*", Map.of("setting", 1))));
        }
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }
}
