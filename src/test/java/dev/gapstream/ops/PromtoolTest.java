package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Prometheus files pass promtool, and so does every query the dashboard and the k8s rule run. */
class PromtoolTest {

  private static final Path PROM_DIR = ExternalTool.repoRoot().resolve("deploy/prometheus");
  private static final ObjectMapper YAML = new YAMLMapper();

  @Test
  void composeConfigIsValid() {
    assertPasses(PROM_DIR, "check", "config", "prometheus.yml");
  }

  @Test
  void rulesAreValid() {
    assertPasses(PROM_DIR, "check", "rules", "alerts.yml");
  }

  @Test
  void ruleUnitTestsPass() {
    ExternalTool.Result r = assertPasses(PROM_DIR, "test", "rules", "alerts.test.yml");
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void everyDashboardQueryParses(@TempDir Path tmp) throws Exception {
    // promtool has no "check expression": wrap each query as a recording rule and check those.
    ArrayNode rules = YAML.createArrayNode();
    List<String> exprs = PromQueryMetrics.allExpressions(List.of(PromQueryMetricsTest.DASHBOARD), List.of());
    assertThat(exprs).isNotEmpty();
    for (int i = 0; i < exprs.size(); i++) {
      rules.addObject().put("record", "dashboard:query_" + i).put("expr", exprs.get(i));
    }
    ObjectNode file = YAML.createObjectNode();
    file.putArray("groups").addObject().put("name", "dashboard").set("rules", rules);
    Path rulesFile = tmp.resolve("dashboard-rules.yml");
    YAML.writeValue(rulesFile.toFile(), file);
    assertPasses(tmp, "check", "rules", rulesFile.toString());
  }

  @Test
  void renderedPrometheusRuleGroupsPassPromtool(@TempDir Path tmp) throws Exception {
    JsonNode rule = Manifests.only(Manifests.render("k8s/base"), "PrometheusRule");
    ObjectNode file = YAML.createObjectNode();
    file.set("groups", rule.at("/spec/groups"));
    Path rulesFile = tmp.resolve("prometheusrule.yml");
    YAML.writeValue(rulesFile.toFile(), file);
    assertPasses(tmp, "check", "rules", rulesFile.toString());
    assertThat(Files.size(rulesFile)).isPositive();
  }

  /**
   * Each overlay's {@code GapstreamAbsent} watches its own namespace: with dev and prod in one
   * Prometheus, prod's replicas kept dev's alert quiet when dev had none (the rule as written
   * looks for any gapstream target). promtool runs each overlay's rules against prod's targets.
   */
  @Test
  void eachOverlaysAbsentAlertWatchesItsOwnNamespace(@TempDir Path tmp) throws Exception {
    assertThat(absentAlertsWhileOnlyProdRuns(tmp, "dev", "gapstream-dev")).contains("SUCCESS");
    assertThat(absentAlertsWhileOnlyProdRuns(tmp, "gpu", "gapstream-gpu")).contains("SUCCESS");
    assertThat(absentAlertsWhileOnlyProdRuns(tmp, "prod", null)).contains("SUCCESS");
  }

  /** promtool's output for the overlay's rules, expecting an alert naming {@code firingFor}, or none. */
  private static String absentAlertsWhileOnlyProdRuns(Path tmp, String overlay, String firingFor) throws Exception {
    JsonNode rule = Manifests.only(Manifests.render("k8s/overlays/" + overlay), "PrometheusRule");
    ObjectNode rules = YAML.createObjectNode();
    rules.set("groups", rule.at("/spec/groups"));
    YAML.writeValue(tmp.resolve(overlay + "-rules.yml").toFile(), rules);
    JsonNode absent = null;
    for (JsonNode r : rule.at("/spec/groups/0/rules")) {
      if (r.path("alert").asText().equals("GapstreamAbsent")) {
        absent = r;
      }
    }
    assertThat(absent).isNotNull();

    ObjectNode test = YAML.createObjectNode();
    test.putArray("rule_files").add(overlay + "-rules.yml");
    test.put("evaluation_interval", "1m");
    ObjectNode t = test.putArray("tests").addObject();
    t.put("interval", "1m");
    t.putArray("input_series").addObject()
        .put("series", "up{job=\"gapstream/gapstream\",namespace=\"gapstream\",instance=\"10.0.0.7:8080\"}")
        .put("values", "1x10");
    ObjectNode check = t.putArray("alert_rule_test").addObject();
    check.put("eval_time", "7m").put("alertname", "GapstreamAbsent");
    ArrayNode expected = check.putArray("exp_alerts");
    if (firingFor != null) {
      ObjectNode alert = expected.addObject();
      alert.putObject("exp_labels").put("severity", "critical").put("namespace", firingFor);
      alert.set("exp_annotations", absent.get("annotations"));
    }
    Path file = tmp.resolve(overlay + "-absent.test.yml");
    YAML.writeValue(file.toFile(), test);
    return assertPasses(tmp, "test", "rules", file.toString()).output();
  }

  private static ExternalTool.Result assertPasses(Path dir, String... args) {
    String[] cmd = new String[args.length + 1];
    cmd[0] = ExternalTool.promtool().toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    ExternalTool.Result r = ExternalTool.run(dir, cmd);
    assertThat(r.ok()).as("promtool %s failed:%n%s", String.join(" ", args), r.output()).isTrue();
    return r;
  }
}
