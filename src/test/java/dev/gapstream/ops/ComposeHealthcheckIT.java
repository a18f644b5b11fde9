package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The health checks of the compose file and of the image's {@code HEALTHCHECK} (for a plain {@code
 * docker run}), run as the container runs them (bash, the image has no HTTP client) against a real
 * service on this machine: healthy while the service is ready, not while its readiness is down or
 * nothing listens.
 */
@ExtendWith(BlockedThreadGuard.class)
class ComposeHealthcheckIT {

  @Test
  void theComposeHealthCheckPassesOnlyWhileTheServiceIsReady() throws Exception {
    JsonNode test =
        Manifests.read(ExternalTool.repoRoot().resolve("deploy/docker-compose.yml"))
            .at("/services/gapstream/healthcheck/test");
    List<String> command = new ArrayList<>();
    test.forEach(part -> command.add(part.asText()));
    assertThat(command).first().isEqualTo("CMD");
    passesOnlyWhileReady(command.subList(1, command.size()));
  }

  /** The image had no HEALTHCHECK: {@code docker run gapstream} showed no health at all. */
  @Test
  void theImagesHealthCheckPassesOnlyWhileTheServiceIsReady() throws Exception {
    Dockerfile.Healthcheck check = Dockerfile.read().healthcheck();
    assertThat(check.options()).as("start-up (model, broker) before failures count").contains("--start-period=60s");
    passesOnlyWhileReady(check.command());
  }

  private static void passesOnlyWhileReady(List<String> command) throws Exception {
    Path dir = ExternalTool.repoRoot();

    // No broker answers on port 1: running, never ready.
    try (GapstreamService unready =
        TestPipelines.start(Map.of("kafka.bootstrap.servers", "127.0.0.1:1"))) {
      assertThat(TestPipelines.get(unready, "/health/ready").statusCode()).isEqualTo(503);
      assertThat(ExternalTool.run(dir, on(command, unready.httpPort())).exitCode()).isNotZero();
    }

    int port;
    try (GapstreamService ready = TestPipelines.start(Map.of())) {
      port = ready.httpPort();
      await().atMost(Duration.ofMinutes(1))
          .until(() -> TestPipelines.get(ready, "/health/ready").statusCode() == 200);
      ExternalTool.Result healthy = ExternalTool.run(dir, on(command, port));
      assertThat(healthy.exitCode()).as(healthy.output()).isZero();
    }
    assertThat(ExternalTool.run(dir, on(command, port)).exitCode()).as("nothing listens").isNotZero();
  }

  /** The check's command aimed at {@code port} instead of 8080. */
  private static String[] on(List<String> command, int port) {
    assertThat(String.join(" ", command)).contains("/127.0.0.1/8080");
    return command.stream()
        .map(part -> part.replace("/127.0.0.1/8080", "/127.0.0.1/" + port))
        .toArray(String[]::new);
  }
}
