# syntax=docker/dockerfile:1
# keyrelay: build with Maven, run on a Temurin 25 JRE as an unprivileged user.

FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -ntp -q dependency:go-offline
COPY src ./src
# (the distribution tarball is not needed in the image: -Dassembly.skipAssembly)
RUN mvn -B -ntp -q package -DskipTests -Dassembly.skipAssembly=true

FROM eclipse-temurin:25-jre
RUN groupadd --system --gid 10001 keyrelay \
 && useradd --system --uid 10001 --gid keyrelay --home-dir /var/lib/keyrelay --shell /usr/sbin/nologin keyrelay \
 && mkdir -p /var/lib/keyrelay /etc/keyrelay \
 && chown keyrelay:keyrelay /var/lib/keyrelay
COPY --from=build /src/target/keyrelay.jar /opt/keyrelay/keyrelay.jar
COPY config/ /etc/keyrelay/
# A JDK ahead-of-time cache recorded by a training run on this very JRE and jar (scripts/aot-train: keyrelay dev under
# T's shape of load), with the entrypoint's JVM options: a container listens in ~1 s instead of ~1.8 s and runs ~35 %
# faster in its first seconds (BENCHMARKS.md, Warm-up). A cache that does not match is ignored by the JVM.
COPY scripts/aot-train /opt/keyrelay/aot-train
RUN AOT_JVM_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError" \
    /opt/keyrelay/aot-train /opt/keyrelay/keyrelay.aot /opt/keyrelay/keyrelay.jar \
 && rm /opt/keyrelay/aot-train

# Configuration comes from KEYRELAY_* variables (see docs/configuration.md); these are the container's defaults.
# smtp.listen 0.0.0.0 is serve's default already; set here, `dev` (which otherwise binds 127.0.0.1, unreachable
# through -p) listens on the container's interfaces too.
ENV KEYRELAY_DATA_DIR=/var/lib/keyrelay \
    KEYRELAY_SMTP_LISTEN=0.0.0.0 \
    KEYRELAY_ADMIN_LISTEN=0.0.0.0

USER keyrelay
WORKDIR /var/lib/keyrelay
VOLUME ["/var/lib/keyrelay"]
EXPOSE 587 465 2525 8080
# JVM options on the command line rather than in JAVA_TOOL_OPTIONS, which the JVM echoes to stderr on every command
# (add your own through JAVA_TOOL_OPTIONS all the same).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-XX:AOTCache=/opt/keyrelay/keyrelay.aot", \
            "-Dlogback.configurationFile=/etc/keyrelay/logback.xml", "-Dkeyrelay.command=docker run … keyrelay", \
            "-jar", "/opt/keyrelay/keyrelay.jar"]
CMD ["--help"]
