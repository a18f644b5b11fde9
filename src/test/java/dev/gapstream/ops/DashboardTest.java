package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The dashboard's structure: importable, provisionable, templated, and following the data flow. */
class DashboardTest {

  private static final Path GRAFANA = ExternalTool.repoRoot().resolve("grafana");

  @Test
  void importInputAndProvisionedDatasourceAgree() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(PromQueryMetricsTest.DASHBOARD.toFile());
    assertThat(dash.at("/__inputs/0/name").asText()).isEqualTo("DS_PROMETHEUS");
    JsonNode vars = dash.at("/templating/list");
    List<String> names = new ArrayList<>();
    vars.forEach(v -> names.add(v.path("name").asText()));
    assertThat(names).contains("DS_PROMETHEUS", "job", "instance");

    JsonNode ds = Manifests.read(GRAFANA.resolve("provisioning/datasources/prometheus.yml"))
        .at("/datasources/0");
    assertThat(vars.get(names.indexOf("DS_PROMETHEUS")).at("/current/value").asText())
        .as("the variable's default is the provisioned datasource uid")
        .isEqualTo(ds.path("uid").asText());
    assertThat(Manifests.read(GRAFANA.resolve("provisioning/dashboards/gapstream.yml"))
        .at("/providers/0/options/path").asText()).isEqualTo("/var/lib/grafana/dashboards");
  }

  @Test
  void panelsUseTheInputDatasourceUniqueIdsAndHistogramQuantiles() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(PromQueryMetricsTest.DASHBOARD.toFile());
    Set<Integer> ids = new HashSet<>();
    List<String> rows = new ArrayList<>();
    for (JsonNode p : dash.path("panels")) {
      assertThat(ids.add(p.path("id").asInt())).as("unique panel id %s", p.path("id")).isTrue();
      if (p.path("type").asText().equals("row")) {
        rows.add(p.path("title").asText());
        continue;
      }
      assertThat(p.at("/datasource/uid").asText()).isEqualTo("${DS_PROMETHEUS}");
      assertThat(p.path("targets")).as(p.path("title").asText()).isNotEmpty().allSatisfy(t -> {
        assertThat(t.at("/datasource/uid").asText()).isEqualTo("${DS_PROMETHEUS}");
        String expr = t.path("expr").asText();
        if (expr.contains("gapstream_")) {
          assertThat(expr).as("filtered by the job/instance variables").containsAnyOf("$job", ":");
        }
      });
    }
    assertThat(rows).containsSubsequence("Ingest", "Batching", "Inference", "Publish",
        "Dead letters", "Kafka", "JVM");
    String all = String.join("\n", PromQueryMetrics.dashboardExpressions(PromQueryMetricsTest.DASHBOARD).values());
    assertThat(all).contains("histogram_quantile(0.5,", "histogram_quantile(0.99,",
        "gapstream_batch_size_bucket", "gapstream_frames_in_flight", "gapstream_consumer_paused",
        "sum by (reason)");
  }

  /**
   * The job variable's "All" is any job: a query of a metric every JVM or Kafka client exports
   * (the Kafka and JVM rows) also selects {@code application="gapstream"}, or on a shared
   * Prometheus it would sum other applications' consumer lag and heap with gapstream's.
   */
  @Test
  void sharedMetricsAreSelectedForGapstreamOnly() throws Exception {
    // Names with colons too: recording rules' (gapstream:end_to_end_seconds:p99_5m{...}).
    Pattern selector = Pattern.compile("(?<![a-zA-Z0-9_:])([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([^}]*)}");
    List<String> shared = new ArrayList<>();
    PromQueryMetrics.dashboardExpressions(PromQueryMetricsTest.DASHBOARD).forEach((panel, expr) -> {
      Matcher m = selector.matcher(expr);
      while (m.find()) {
        if (!m.group(1).startsWith("gapstream")) {
          shared.add(m.group(1));
          assertThat(m.group(2)).as("%s: %s", panel, m.group(1)).contains("application=\"gapstream\"");
        }
      }
    });
    assertThat(shared).contains("kafka_consumer_fetch_manager_records_lag", "jvm_memory_used_bytes", "process_cpu_usage");
  }

  /** gapstream_model_info is always 1: its stat panel shows the series' name, model and version. */
  @Test
  void modelPanelShowsTheModelNotTheValue() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(PromQueryMetricsTest.DASHBOARD.toFile());
    int infos = 0;
    for (JsonNode p : dash.path("panels")) {
      for (JsonNode t : p.path("targets")) {
        if (t.path("expr").asText().contains("gapstream_model_info")) {
          assertThat(p.at("/options/textMode").asText()).as(p.path("title").asText()).isEqualTo("name");
          assertThat(t.path("legendFormat").asText()).contains("{{model}}", "{{version}}");
          infos++;
        }
      }
    }
    assertThat(infos).isPositive();
  }

  /**
   * Units say what a panel shows: no rate reads "req/s" (gapstream serves no requests), and seconds
   * spent per second (a rate of a *_seconds_sum alone) are a share of time, not seconds.
   */
  @Test
  void unitsFitWhatPanelsShow() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(PromQueryMetricsTest.DASHBOARD.toFile());
    int shares = 0;
    for (JsonNode p : dash.path("panels")) {
      String title = p.path("title").asText();
      String unit = p.at("/fieldConfig/defaults/unit").asText();
      assertThat(unit).as(title).isNotIn("reqps", "rps");
      for (JsonNode t : p.path("targets")) {
        String expr = t.path("expr").asText();
        if (expr.matches("(?s).*rate\\(\\w+_seconds_sum\\b.*") && !expr.contains("/")) {
          assertThat(unit).as(title + ": seconds per second").isEqualTo("percentunit");
          shares++;
        }
      }
    }
    assertThat(shares).as("the GC pause panel").isPositive();
  }
}
