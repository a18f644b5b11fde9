package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQueryMetricsTest {

  static final Path DASHBOARD = ExternalTool.repoRoot().resolve("grafana/dashboards/gapstream.json");
  static final Path RULES = ExternalTool.repoRoot().resolve("deploy/prometheus/alerts.yml");

  /** What the README ("Metrics") and the Micrometer binders export; dashboards and rules may use these. */
  /** gapstream's own metrics, plus the client and JVM metrics the dashboard and alerts rely on. */
  static final Set<String> CONTRACT =
      java.util.stream.Stream.concat(
              dev.gapstream.metrics.GapstreamMetrics.PROMETHEUS_NAMES.stream(),
              java.util.stream.Stream.of(
                  // Per partition; not records_lag_max, a windowed max whose sums undercount.
                  "kafka_consumer_fetch_manager_records_lag",
                  "kafka_consumer_fetch_manager_records_consumed_total",
                  "jvm_memory_used_bytes",
                  "jvm_gc_pause_seconds",
                  "process_cpu_usage",
                  "jvm_threads_live_threads"))
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  @Test
  void histogramSuffixesMapToTheFamilyAndLabelsAreIgnored() {
    assertThat(PromQueryMetrics.metricNames(
            "histogram_quantile(0.99, sum by (job, le) (rate(gapstream_end_to_end_seconds_bucket{job=~\"$job\", le!=\"+Inf\"}[$__rate_interval])))"))
        .containsExactly("gapstream_end_to_end_seconds");
    assertThat(PromQueryMetrics.metricNames(
            "sum(rate(gapstream_batch_size_sum[5m])) / sum(rate(gapstream_batch_size_count[5m]))"))
        .containsExactly("gapstream_batch_size");
  }

  @Test
  void keywordsFunctionsLabelListsStringsAndNumbersAreNotMetrics() {
    String expr = """
        sum without (instance) (rate(a_total{reason="x y"}[5m] offset 1h))
          / on (job) group_left (model) max by (job, model) (b_info)
          > bool 1e-3 and c unless d or count_values("v", e) # a comment naming f
        """;
    assertThat(PromQueryMetrics.metricNames(expr))
        .containsExactly("a_total", "b_info", "c", "d", "e");
    assertThat(PromQueryMetrics.metricNames("label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")"))
        .containsExactly("up");
    assertThat(PromQueryMetrics.metricNames("{__name__=\"g_total\", job=\"j\"}"))
        .containsExactly("g_total");
    assertThat(PromQueryMetrics.metricNames("vector(1)")).isEmpty();
    assertThat(PromQueryMetrics.metricNames("x > on () group_left rec:name:p99"))
        .containsExactly("rec:name:p99", "x");
    assertThat(PromQueryMetrics.metricNames("deriv(rec:lag:sum[10m:1m]) > 0 AND BY_total"))
        .containsExactly("BY_total", "rec:lag:sum");
  }

  @Test
  void grafanaVariablesAreSubstituted() {
    assertThat(PromQueryMetrics.substituteGrafanaVariables(
            "rate(x{job=~\"$job\",instance=~\"${instance}\"}[$__rate_interval])"))
        .isEqualTo("rate(x{job=~\".*\",instance=~\".*\"}[5m])");
  }

  @Test
  void dashboardAndRulesQueryOnlyExportedOrRecordedNames() {
    assertThat(PromQueryMetrics.dashboardQueries(DASHBOARD)).isNotEmpty()
        .allSatisfy((panel, names) -> assertThat(names).as(panel).isNotEmpty());
    assertThat(PromQueryMetrics.ruleQueries(RULES))
        .containsKey("gapstream.alerts/GapstreamConsumerLagGrowing");
    Set<String> exported = PromQueryMetrics.exportedMetricNames(List.of(DASHBOARD), List.of(RULES));
    assertThat(exported).as("names not in the metric contract").isSubsetOf(CONTRACT)
        .contains("gapstream_end_to_end_seconds", "gapstream_frames_rejected_total",
            "kafka_consumer_fetch_manager_records_lag");
  }

  @Test
  void recordedNamesUsedAreDefinedByARule() {
    Set<String> recorded = new java.util.TreeSet<>();
    PromQueryMetrics.ruleExpressions(RULES).keySet().forEach(k -> recorded.add(k.substring(k.indexOf('/') + 1)));
    Set<String> used = new java.util.TreeSet<>();
    PromQueryMetrics.dashboardQueries(DASHBOARD).values().forEach(used::addAll);
    PromQueryMetrics.ruleQueries(RULES).values().forEach(used::addAll);
    used.removeIf(n -> !n.contains(":"));
    assertThat(recorded).containsAll(used);
  }
}
