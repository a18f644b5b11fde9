package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine here (and no `docker compose` plugin), so the compose file is checked
 * structurally: references between services, mounted paths, and what gapstream needs.
 */
class ComposeTest {

  private static final Path DEPLOY = ExternalTool.repoRoot().resolve("deploy");

  @Test
  void servicesReferenceEachOtherAndExistingFiles() {
    JsonNode services = Manifests.read(DEPLOY.resolve("docker-compose.yml")).path("services");
    Set<String> names = new HashSet<>();
    services.fieldNames().forEachRemaining(names::add);
    assertThat(names).contains("kafka", "topic-init", "gapstream", "prometheus", "grafana");

    services.fields().forEachRemaining(e -> {
      JsonNode deps = e.getValue().path("depends_on");
      deps.fieldNames().forEachRemaining(d -> assertThat(names).as(e.getKey() + " depends_on").contains(d));
      deps.forEach(d -> { if (d.isTextual()) assertThat(names).contains(d.asText()); });
      assertThat(e.getValue().has("image") || e.getValue().has("build")).as(e.getKey()).isTrue();
      for (JsonNode v : e.getValue().path("volumes")) {
        String host = v.asText().split(":")[0];
        assertThat(Files.exists(DEPLOY.resolve(host))).as("%s mounts %s", e.getKey(), host).isTrue();
      }
    });

    JsonNode gapstream = services.path("gapstream");
    assertThat(gapstream.at("/environment/GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
    assertThat(gapstream.at("/depends_on/topic-init/condition").asText())
        .isEqualTo("service_completed_successfully");
    Path dockerfile = DEPLOY.resolve(gapstream.at("/build/context").asText())
        .resolve(gapstream.at("/build/dockerfile").asText()).normalize();
    assertThat(dockerfile).exists();
    assertThat(DEPLOY.resolve(gapstream.at("/build/context").asText()).resolve(".dockerignore")).exists();
    assertThat(services.at("/topic-init/command/0").asText()).contains("frames", "predictions", "frames.dlq");
  }

  @Test
  void dockerfileRunsTheThinJarAsNonRoot() throws Exception {
    String df = Files.readString(DEPLOY.resolve("Dockerfile"));
    assertThat(df).contains("FROM maven:3.9-eclipse-temurin-17 AS build", "ARG RUNTIME_IMAGE=debian:bookworm-slim",
        "apt-get install -y --no-install-recommends openjdk-17-jre-headless",
        "target/gapstream.jar", "target/lib/", "COPY models/ /app/models/", "WORKDIR /app",
        "USER 10001", "EXPOSE 8080", "\"-jar\", \"/app/gapstream.jar\"]", "CMD [\"run\"]");
  }
}
