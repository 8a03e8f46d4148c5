package io.keyrelay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.keyrelay.config.ConfigLoader;
import io.keyrelay.config.Durations;
import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Setting;
import io.keyrelay.net.IpLiteral;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The deployment files under {@code deploy/} (no container engine here to run them): every {@code KEYRELAY_*}
 * variable they set is a real setting and the values together make a configuration keyrelay accepts, the shutdown
 * budgets outlast {@code smtp.shutdown_grace}, the probes point at real endpoints, and HAProxy's configuration
 * passes {@code haproxy -c}.
 */
class DeployFilesIT {
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Z_]+)(:?[-?][^}]*)?}");

    @Test
    void compose_hasTwoNodesPostgresRedisAndHaproxy_eachWithAHealthCheck_andEveryNodeVariableIsARealSetting()
            throws IOException {
        JsonNode compose = YAML.readTree(Path.of("deploy/compose.yaml").toFile());
        JsonNode services = compose.get("services");
        assertThat(names(services)).contains("postgres", "redis", "haproxy", "keyrelay-1", "keyrelay-2");
        for (String s : names(services)) {
            assertThat(services.get(s).has("healthcheck")).as("%s has a health check", s).isTrue();
            for (JsonNode v : iterable(services.get(s).path("volumes"))) {
                String source = v.asText().split(":")[0];
                if (!source.startsWith(".")) {
                    assertThat(compose.path("volumes").has(source)).as("%s's volume %s is declared", s, source).isTrue();
                }
            }
        }
        String haproxyAddress = services.at("/haproxy/networks/relay/ipv4_address").asText();
        List<String> nodes = names(services).stream().filter(n -> n.startsWith("keyrelay-")).toList();
        assertThat(nodes).hasSize(2);
        for (String node : nodes) {
            JsonNode svc = services.get(node);
            Map<String, String> env = new LinkedHashMap<>();
            svc.get("environment").properties().forEach(e -> env.put(e.getKey(), interpolate(e.getValue().asText())));
            RelayConfig config = load(node, env);
            assertThat(config.cluster().nodeName()).isEqualTo(node);
            assertThat(config.smtp().proxy().mode()).isEqualTo(RelayConfig.ProxyProtocol.V2);
            assertThat(config.smtp().proxy().trusts(InetAddress.getByAddress(IpLiteral.parse(haproxyAddress))))
                    .as("%s trusts HAProxy's address %s", node, haproxyAddress).isTrue();
            assertThat(config.db().url()).startsWith("jdbc:postgresql://postgres:");
            assertThat(config.cluster().redis().url()).startsWith("redis://redis:");
            assertThat(services.has("redis")).isTrue();
            Duration stop = Durations.parse(svc.get("stop_grace_period").asText());
            assertThat(stop).as("%s: stop_grace_period longer than smtp.shutdown_grace", node)
                    .isGreaterThan(config.smtp().shutdownGrace());
            assertThat(svc.at("/healthcheck/test").toString()).contains("/readyz");
            assertThat(svc.path("ports").toString()).as("admin published on loopback only").contains("\"127.0.0.1:");
        }
    }

    @Test
    void haproxyConfig_isValid_andSendsProxyV2ToEveryComposeNode() throws Exception {
        Path cfg = Path.of("deploy/haproxy/haproxy.cfg");
        Process p = new ProcessBuilder("/usr/sbin/haproxy", "-c", "-f", cfg.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("Configuration file is valid");
        // The only warnings allowed: the compose service names do not resolve on this machine.
        out.lines().filter(l -> l.contains("[WARNING]"))
                .forEach(l -> assertThat(l).contains("could not resolve address"));
        List<String> servers = Files.readAllLines(cfg).stream().map(String::strip).filter(l -> l.startsWith("server "))
                .toList();
        assertThat(servers).isNotEmpty().allSatisfy(l -> assertThat(l).contains(" send-proxy-v2", " check"));
        JsonNode services = YAML.readTree(Path.of("deploy/compose.yaml").toFile()).get("services");
        for (String node : List.of("keyrelay-1", "keyrelay-2")) {
            assertThat(services.has(node)).isTrue();
            assertThat(servers).anyMatch(l -> l.contains(" " + node + ":587 "));
            assertThat(servers).anyMatch(l -> l.contains(" " + node + ":465 "));
        }
    }

    @Test
    void kubernetes_deploymentProbesShutdownAndEnvironment_matchKeyrelay() throws IOException {
        Map<String, JsonNode> byKind = new HashMap<>();
        List<JsonNode> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("deploy/kubernetes"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(f.toFile())) {
                    while (it.hasNext()) {
                        JsonNode d = it.next();
                        docs.add(d);
                        byKind.put(d.path("kind").asText(), d);
                    }
                }
            }
        }
        assertThat(byKind).containsKeys("Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget",
                "Kustomization");
        JsonNode deployment = byKind.get("Deployment");
        assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
        JsonNode pod = deployment.at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/healthz");

        // The environment as a pod sees it: the ConfigMap and Secret it names, then its own variables.
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : iterable(container.path("envFrom"))) {
            if (from.has("configMapRef")) {
                JsonNode cm = byKind.get("ConfigMap");
                assertThat(cm.at("/metadata/name").asText()).isEqualTo(from.at("/configMapRef/name").asText());
                cm.get("data").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            } else {
                JsonNode secret = byKind.get("Secret");
                assertThat(secret.at("/metadata/name").asText()).isEqualTo(from.at("/secretRef/name").asText());
                secret.get("stringData").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            }
        }
        for (JsonNode e : iterable(container.path("env"))) {
            env.put(e.get("name").asText(), e.has("value") ? e.get("value").asText() : "keyrelay-5d8f9-abcde");
        }
        assertThat(env).containsKey("KEYRELAY_CLUSTER_NODE_NAME");
        assertThat(container.at("/env/0/valueFrom/fieldRef/fieldPath").asText()).isEqualTo("metadata.name");
        RelayConfig config = load("deploy/kubernetes", env);
        assertThat(config.db().url()).startsWith("jdbc:postgresql:");
        assertThat(config.cluster().redis().configured()).isTrue();
        assertThat(config.cluster().redis().password()).as("the Redis password comes from the Secret").isNotEmpty();

        JsonNode preStop = container.at("/lifecycle/preStop/exec/command");
        assertThat(preStop.isArray()).as("a preStop hook").isTrue();
        long pause = preStop.get(0).asText().equals("sleep") ? Long.parseLong(preStop.get(1).asText()) : 0;
        long grace = pod.get("terminationGracePeriodSeconds").asLong();
        assertThat(Duration.ofSeconds(grace)).as("terminationGracePeriodSeconds > preStop pause + smtp.shutdown_grace")
                .isGreaterThan(config.smtp().shutdownGrace().plusSeconds(pause));

        // Every named port the probes and the Service use exists on the container; selectors find the pods.
        List<String> ports = new ArrayList<>();
        container.get("ports").forEach(p -> ports.add(p.get("name").asText()));
        assertThat(ports).contains(container.at("/readinessProbe/httpGet/port").asText(),
                container.at("/livenessProbe/httpGet/port").asText());
        JsonNode labels = deployment.at("/spec/template/metadata/labels");
        JsonNode service = byKind.get("Service");
        service.at("/spec/ports").forEach(p -> assertThat(ports).contains(p.get("targetPort").asText()));
        service.at("/spec/selector").properties()
                .forEach(e -> assertThat(labels.path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
        byKind.get("PodDisruptionBudget").at("/spec/selector/matchLabels").properties()
                .forEach(e -> assertThat(labels.path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
        assertThat(byKind.get("PodDisruptionBudget").at("/spec/minAvailable").asInt()).isEqualTo(1);
        List<String> listed = new ArrayList<>();
        byKind.get("Kustomization").get("resources").forEach(r -> listed.add(r.asText()));
        assertThat(listed).hasSize(docs.size() - 1);
    }

    /** Loads {@code env} as keyrelay would, after checking that every KEYRELAY_ variable in it is a setting. */
    private static RelayConfig load(String where, Map<String, String> env) {
        for (String name : env.keySet()) {
            assertThat(name).as("%s sets only KEYRELAY_ variables", where).startsWith("KEYRELAY_");
            assertThat(Stream.of(Setting.values()).anyMatch(s -> s.envName().equals(name)))
                    .as("%s: %s is a keyrelay setting", where, name).isTrue();
        }
        ConfigLoader.Raw raw = ConfigLoader.read(null, env);
        assertThat(raw.warnings()).as(where).isEmpty();
        return ConfigLoader.build(raw);
    }

    /** A compose value with its {@code ${VAR…}} references replaced by a sample value (or the given default). */
    private static String interpolate(String value) {
        Matcher m = INTERPOLATION.matcher(value);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String mod = m.group(2);
            String replacement = mod != null && mod.matches(":?-.*") ? mod.substring(mod.indexOf('-') + 1)
                    : switch (m.group(1)) {
                        case "RELAY_HOSTNAME" -> "relay.example.com";
                        case "SMARTHOST" -> "smtp.example.net";
                        default -> "sample-" + m.group(1).toLowerCase(java.util.Locale.ROOT);
                    };
            m.appendReplacement(b, Matcher.quoteReplacement(replacement));
        }
        return m.appendTail(b).toString();
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.properties().forEach(e -> out.add(e.getKey()));
        return out;
    }

    private static Iterable<JsonNode> iterable(JsonNode n) {
        return n::elements;
    }
}
