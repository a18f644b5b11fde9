package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gapstream.config.ConfigKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    services.properties().forEach(e -> {
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

  /**
   * The image sets no configuration (it would beat app.yaml and compose's environment), so
   * gapstream's defaults must find the shipped model from the image's working directory and listen
   * on the port the image exposes and compose maps.
   */
  @Test
  void theImagesDefaultsFindTheShippedModelAndPort() throws Exception {
    String df = Files.readString(DEPLOY.resolve("Dockerfile"));
    Matcher copy = Pattern.compile("(?m)^COPY models/ (/\\S+?)/?$").matcher(df);
    assertThat(copy.find()).as("the Dockerfile copies models/").isTrue();
    Path models = Path.of(copy.group(1));
    String defaultModel = (String) ConfigKeys.DEF.keys().get(ConfigKeys.INFERENCE_MODEL_PATH).defaultValue();
    Path model = Path.of(Dockerfile.read().workdir().orElseThrow()).resolve(defaultModel).normalize();
    assertThat(model).as("the default model path from the WORKDIR").startsWithRaw(models);
    assertThat(ExternalTool.repoRoot().resolve("models").resolve(models.relativize(model).toString())).isRegularFile();
    assertThat(Files.readAllLines(ExternalTool.repoRoot().resolve(".dockerignore")))
        .noneMatch(l -> l.strip().startsWith("models"));

    int port = ((Number) ConfigKeys.DEF.keys().get(ConfigKeys.HTTP_PORT).defaultValue()).intValue();
    assertThat(df).containsPattern("(?m)^EXPOSE " + port + "$");
    JsonNode gapstream = Manifests.read(DEPLOY.resolve("docker-compose.yml")).at("/services/gapstream");
    assertThat(gapstream.path("ports")).extracting(JsonNode::asText).contains("127.0.0.1:8080:" + port);
    Manifests.read(DEPLOY.resolve("docker-compose.yml")).path("services").forEach(service ->
        assertThat(service.path("ports")).extracting(JsonNode::asText).allMatch(p -> p.startsWith("127.0.0.1:")));
    assertThat(gapstream.has("working_dir")).as("compose keeps the image's WORKDIR").isFalse();
  }
}
