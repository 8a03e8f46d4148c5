package io.keyrelay.cli;

import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.RelayConfig;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --config FILE} option every command takes, and the environment it was started with. Without
 * {@code --config}, {@code KEYRELAY_CONFIG} names the file; without either, only defaults and
 * {@code KEYRELAY_*} variables apply.
 */
abstract class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML configuration file.")
    Path configFile;

    private Map<String, String> env = Map.of();

    void environment(Map<String, String> env) {
        this.env = env;
    }

    Map<String, String> env() {
        return env;
    }

    Path configPath() {
        if (configFile != null) {
            return configFile;
        }
        String fromEnv = env.get("KEYRELAY_CONFIG");
        return fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv);
    }

    ConfigLoader.Raw rawConfig() {
        return ConfigLoader.read(configPath(), env);
    }

    RelayConfig config() {
        return ConfigLoader.build(rawConfig());
    }
}
