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

  private static ExternalTool.Result assertPasses(Path dir, String... args) {
    String[] cmd = new String[args.length + 1];
    cmd[0] = ExternalTool.promtool().toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    ExternalTool.Result r = ExternalTool.run(dir, cmd);
    assertThat(r.ok()).as("promtool %s failed:%n%s", String.join(" ", args), r.output()).isTrue();
    return r;
  }
}
