package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * deploy/prometheus/alerts.yml is the one rule source; the PrometheusRule must embed exactly its
 * groups. On failure run k8s/base/gen-prometheusrule.sh.
 */
class PrometheusRuleSyncTest {

  @Test
  void prometheusRuleEmbedsTheComposeRuleGroups() {
    JsonNode source = Manifests.read(PromQueryMetricsTest.RULES).path("groups");
    JsonNode embedded =
        Manifests.read(ExternalTool.repoRoot().resolve("k8s/base/prometheusrule.yaml"))
            .at("/spec/groups");
    assertThat(embedded)
        .as("k8s/base/prometheusrule.yaml is stale: run k8s/base/gen-prometheusrule.sh")
        .isEqualTo(source);
    assertThat(source.size()).isPositive();
  }

  @Test
  void everyAlertCarriesSeverityTimingAndRunbook() {
    int alerts = 0;
    for (JsonNode group : Manifests.read(PromQueryMetricsTest.RULES).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        if (!rule.has("alert")) {
          continue;
        }
        String name = rule.path("alert").asText();
        alerts++;
        assertThat(rule.path("for").asText()).as(name + " for").isNotEmpty();
        assertThat(rule.at("/labels/severity").asText()).as(name + " severity")
            .isIn("critical", "warning", "info");
        assertThat(rule.at("/annotations/summary").asText()).as(name + " summary").isNotEmpty();
        assertThat(rule.at("/annotations/description").asText()).as(name + " runbook")
            .contains("docs/OPERATIONS.md#" + name.toLowerCase(java.util.Locale.ROOT));
      }
    }
    assertThat(alerts).as("alerts read from " + PromQueryMetricsTest.RULES).isPositive();
  }
}
