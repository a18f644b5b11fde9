package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.cli.Demo;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped dashboard and alert rules against a running pipeline: its {@code /metrics} exports
 * every metric they name, and the real Prometheus (Debian's package) scrapes it, loads the rules,
 * and evaluates every dashboard and rule expression through its HTTP API.
 */
@ExtendWith(BlockedThreadGuard.class)
class PrometheusIT {

  private static final Path ROOT = ExternalTool.repoRoot();
  private static final List<Path> DASHBOARDS = List.of(ROOT.resolve("grafana/dashboards/gapstream.json"));
  private static final List<Path> RULES = List.of(ROOT.resolve("deploy/prometheus/alerts.yml"));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  /**
   * Series that exist only once something failed, labelled with what failed: a healthy pipeline
   * exports none (RefusedPredictionsIT reads them from a pipeline whose sends are refused).
   */
  private static final Set<String> ONLY_ON_FAILURE = Set.of("gapstream_publish_failures_total");

  @TempDir static Path dir;
  private static GapstreamService service;
  private static Thread traffic;
  private static Process prometheus;
  private static int prometheusPort;

  @BeforeAll
  static void startPipelineTrafficAndPrometheus() throws Exception {
    // As deployed, with the batch size calibrated: the dashboard shows what calibration chose.
    service = TestPipelines.start(Map.of("batch.calibrate", "true"));
    Demo demo = new Demo(service, 1_500, 100, 4242);
    traffic = new Thread(() -> {
      try {
        demo.run(Duration.ofMinutes(2), status -> {});
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "prometheus-it-traffic");
    traffic.setDaemon(true);
    traffic.start();
    prometheus = startPrometheus(service.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly().waitFor();
      }
    }
    if (traffic != null) { // its reader and consumer end with it, before the broker does
      traffic.interrupt();
      traffic.join();
    }
    if (service != null) {
      service.close();
    }
  }

  @Test
  void theRunningPipelineExportsEveryMetricTheDashboardAndRulesUse() throws Exception {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Set<String> exported = new TreeSet<>();
      PromText.parse(TestPipelines.get(service, "/metrics").body()).names()
          .forEach(n -> exported.add(PromQueryMetrics.familyName(n)));
      Set<String> used = new TreeSet<>(PromQueryMetrics.exportedMetricNames(DASHBOARDS, RULES));
      used.removeAll(ONLY_ON_FAILURE);
      assertThat(exported).containsAll(used);
    });
  }

  @Test
  void prometheusScrapesThePipelineAndEveryExpressionEvaluates() throws Exception {
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
        assertThat(query("sum(gapstream_predictions_published_total{job=\"gapstream\"})").path("result"))
            .as("Prometheus has scraped predictions")
            .isNotEmpty()
            .allSatisfy(r -> assertThat(r.path("value").get(1).asDouble()).isPositive()));
    assertThat(query("up{job=\"gapstream\"}").path("result").get(0).path("value").get(1).asText()).isEqualTo("1");

    List<String> failures = new ArrayList<>();
    for (String expr : PromQueryMetrics.allExpressions(DASHBOARDS, RULES)) {
      JsonNode answer = queryRaw(expr);
      if (!"success".equals(answer.path("status").asText())) {
        failures.add(expr + " -> " + answer.path("error").asText());
      }
    }
    assertThat(failures).as("expressions Prometheus rejected").isEmpty();
  }

  @Test
  void theCoreDashboardQueriesReturnData() throws Exception {
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
      List<String> empty = new ArrayList<>();
      for (String expr : PromQueryMetrics.dashboardExpressions(DASHBOARDS.get(0)).values()) {
        String q = PromQueryMetrics.substituteGrafanaVariables(expr);
        boolean healthyHasData = !ONLY_ON_FAILURE.containsAll(PromQueryMetrics.metricNames(q));
        if (q.contains("gapstream_") && healthyHasData && query(q).path("result").isEmpty()) {
          empty.add(q);
        }
      }
      assertThat(empty).as("gapstream panels without data").isEmpty();
    });
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
        assertThat(query("gapstream:end_to_end_seconds:p99_objective").path("result"))
            .as("the rules were loaded and evaluated")
            .isNotEmpty());
  }

  private static JsonNode query(String promql) throws Exception {
    JsonNode answer = queryRaw(promql);
    assertThat(answer.path("status").asText()).as(promql + ": " + answer).isEqualTo("success");
    return answer.path("data");
  }

  private static JsonNode queryRaw(String promql) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + prometheusPort + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> response =
        HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(response.body());
  }

  /**
   * Prometheus on a free port, ready to answer: the port is found free and then bound by another
   * process, so a port taken in between ("address already in use") is tried again on another; any
   * other failure to start fails the test with Prometheus's log, not a query's later timeout.
   */
  private static Process startPrometheus(int targetPort) throws Exception {
    Path binary = ExternalTool.require("prometheus", "apt-get install prometheus (.ci/run does this)");
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, String.join("\n",
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "rule_files:",
        "  - " + RULES.get(0).toAbsolutePath(),
        "scrape_configs:",
        "  - job_name: gapstream",
        "    static_configs:",
        "      - targets: ['127.0.0.1:" + targetPort + "']",
        ""));
    Path log = dir.resolve("prometheus.log");
    for (int attempt = 1; ; attempt++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        prometheusPort = socket.getLocalPort();
      }
      Process process = new ProcessBuilder(
              binary.toString(),
              "--config.file=" + config,
              "--storage.tsdb.path=" + dir.resolve("data-" + attempt),
              "--web.listen-address=127.0.0.1:" + prometheusPort)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (ready(process)) {
        return process;
      }
      process.destroyForcibly().waitFor();
      String output = Files.readString(log);
      if (attempt == 3 || !output.contains("address already in use")) {
        throw new AssertionError("Prometheus did not start on port " + prometheusPort + ":\n" + output);
      }
    }
  }

  /** Whether Prometheus answers /-/ready within a minute; false once it has exited. */
  private static boolean ready(Process process) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + prometheusPort + "/-/ready");
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (process.isAlive() && System.nanoTime() < deadline) {
      try {
        HttpResponse<Void> response = HTTP.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return true;
        }
      } catch (IOException notYetListening) {
        // until it listens
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    return false;
  }
}
