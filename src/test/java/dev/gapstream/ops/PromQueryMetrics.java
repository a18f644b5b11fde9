package dev.gapstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names that dashboards and rules query, so a test can compare them with what the
 * service exports (a dashboard naming a metric the code does not export is a bug, see STYLE.md).
 *
 * <p>Names come from a small PromQL scan, not a full parser: strings, comments, label matchers
 * and range/subquery brackets are removed, then every identifier that is not a keyword, an
 * aggregation or a function call, nor a label list after {@code by}/{@code without}/{@code
 * on}/{@code ignoring}/{@code group_left}/{@code group_right}, is a metric name. {@code _bucket},
 * {@code _sum} and {@code _count} map to the histogram (or summary) family name, which is what
 * {@code # TYPE} lines in {@code /metrics} carry. Grafana variables ({@code $job}, {@code
 * $__rate_interval}) are substituted first. Results are sorted sets; nothing here is thread-bound.
 */
public final class PromQueryMetrics {

  /** Series Prometheus makes itself, never found in a target's /metrics. */
  public static final Set<String> SYNTHETIC =
      Set.of(
          "up",
          "scrape_duration_seconds",
          "scrape_samples_scraped",
          "scrape_samples_post_metric_relabeling",
          "scrape_series_added",
          "ALERTS",
          "ALERTS_FOR_STATE");

  private static final Set<String> KEYWORDS =
      Set.of(
          "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
          "unless", "offset", "atan2", "inf", "nan", "sum", "min", "max", "avg", "group",
          "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk",
          "limit_ratio");

  private static final Set<String> LABEL_LIST_KEYWORDS =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

  private static final Pattern GRAFANA_VARIABLE = Pattern.compile("\\$\\{[^}]*}|\\$\\w+");
  private static final Pattern NAME_MATCHER =
      Pattern.compile("__name__\\s*=\\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new YAMLMapper();

  private PromQueryMetrics() {}

  /** Metric names one PromQL expression selects (histogram suffixes mapped to the family). */
  public static Set<String> metricNames(String promql) {
    String expr = substituteGrafanaVariables(promql);
    Set<String> names = new TreeSet<>();
    Matcher byName = NAME_MATCHER.matcher(expr);
    while (byName.find()) {
      names.add(familyName(byName.group(1)));
    }
    scanIdentifiers(stripNonSelectors(expr), names);
    return names;
  }

  /**
   * Replaces Grafana's template variables with values PromQL accepts: {@code $__*interval} by a
   * duration, anything else by {@code .*} (variables sit in regex label matchers).
   */
  public static String substituteGrafanaVariables(String expr) {
    Matcher m = GRAFANA_VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = m.group().contains("interval") || m.group().contains("range") ? "5m" : ".*";
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Panel query expressions keyed "panel title/refId", in dashboard order (rows included). */
  public static Map<String, String> dashboardExpressions(Path dashboardJson) {
    Map<String, String> out = new LinkedHashMap<>();
    collectPanels(read(JSON, dashboardJson).path("panels"), out);
    return out;
  }

  /** Metric names per panel query, keyed "panel title/refId". */
  public static Map<String, Set<String>> dashboardQueries(Path dashboardJson) {
    return namesOf(dashboardExpressions(dashboardJson));
  }

  /**
   * Rule expressions keyed "group/alert-or-record name", from a Prometheus rule file ({@code
   * groups:} at the top) or a PrometheusRule ({@code spec.groups}).
   */
  public static Map<String, String> ruleExpressions(Path rulesYaml) {
    JsonNode root = read(YAML, rulesYaml);
    JsonNode groups = root.has("spec") ? root.path("spec").path("groups") : root.path("groups");
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode group : groups) {
      for (JsonNode rule : group.path("rules")) {
        String name = rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
        out.put(group.path("name").asText() + "/" + name, rule.path("expr").asText());
      }
    }
    return out;
  }

  /** Metric names per rule, keyed "group/alert-or-record name". */
  public static Map<String, Set<String>> ruleQueries(Path rulesYaml) {
    return namesOf(ruleExpressions(rulesYaml));
  }

  /** Every expression of the dashboards and rule files, Grafana variables substituted. */
  public static List<String> allExpressions(List<Path> dashboards, List<Path> ruleFiles) {
    List<String> out = new ArrayList<>();
    dashboards.forEach(d -> dashboardExpressions(d).values().stream()
        .map(PromQueryMetrics::substituteGrafanaVariables).forEach(out::add));
    ruleFiles.forEach(r -> out.addAll(ruleExpressions(r).values()));
    return out;
  }

  /**
   * The names a running gapstream must expose in /metrics for these dashboards and rules to work:
   * all names used, minus recording-rule outputs (they contain a colon, by Prometheus naming
   * convention, and exported metrics never do) and Prometheus's own {@link #SYNTHETIC} series.
   */
  public static Set<String> exportedMetricNames(List<Path> dashboards, List<Path> ruleFiles) {
    Set<String> out = new TreeSet<>();
    dashboards.forEach(d -> dashboardQueries(d).values().forEach(out::addAll));
    ruleFiles.forEach(r -> ruleQueries(r).values().forEach(out::addAll));
    out.removeIf(n -> n.contains(":") || SYNTHETIC.contains(n));
    return out;
  }

  static String familyName(String name) {
    for (String suffix : List.of("_bucket", "_sum", "_count")) {
      if (name.endsWith(suffix) && name.length() > suffix.length()) {
        return name.substring(0, name.length() - suffix.length());
      }
    }
    return name;
  }

  /** Removes strings, comments, {label matchers} and [ranges] (none hold a metric name). */
  private static String stripNonSelectors(String expr) {
    StringBuilder out = new StringBuilder(expr.length());
    int braces = 0;
    int brackets = 0;
    for (int i = 0; i < expr.length(); i++) {
      char c = expr.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = endOfString(expr, i);
        out.append(' ');
      } else if (c == '#' && braces == 0) {
        int eol = expr.indexOf('\n', i);
        i = eol < 0 ? expr.length() : eol;
        out.append(' ');
      } else if (c == '{') {
        braces++;
      } else if (c == '}') {
        braces--;
      } else if (c == '[') {
        brackets++;
      } else if (c == ']') {
        brackets--;
      } else if (braces == 0 && brackets == 0) {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static int endOfString(String s, int open) {
    char quote = s.charAt(open);
    for (int i = open + 1; i < s.length(); i++) {
      if (s.charAt(i) == '\\' && quote != '`') {
        i++;
      } else if (s.charAt(i) == quote) {
        return i;
      }
    }
    return s.length();
  }

  private static void scanIdentifiers(String s, Set<String> names) {
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isDigit(c) || (c == '.' && i + 1 < s.length()
          && Character.isDigit(s.charAt(i + 1)))) {
        i = skipWord(s, i); // a number or duration: 0.99, 5m, 1e3, 0x1f
      } else if (isIdentStart(c)) {
        int end = skipWord(s, i);
        String word = s.substring(i, end);
        String keyword = word.toLowerCase(Locale.ROOT); // PromQL keywords ignore case
        int next = skipSpaces(s, end);
        boolean call = next < s.length() && s.charAt(next) == '(';
        if (LABEL_LIST_KEYWORDS.contains(keyword) && call) {
          end = s.indexOf(')', next) + 1; // by (job, le): label names, not metrics
        } else if (!call && !KEYWORDS.contains(keyword)) {
          names.add(familyName(word));
        }
        i = Math.max(end, i + 1);
      } else {
        i++;
      }
    }
  }

  private static boolean isIdentStart(char c) {
    return Character.isLetter(c) || c == '_' || c == ':';
  }

  private static int skipWord(String s, int i) {
    while (i < s.length()
        && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':'
            || s.charAt(i) == '.')) {
      i++;
    }
    return i;
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static void collectPanels(JsonNode panels, Map<String, String> out) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        if (target.hasNonNull("expr")) {
          out.put(panel.path("title").asText() + "/" + target.path("refId").asText(),
              target.path("expr").asText());
        }
      }
      collectPanels(panel.path("panels"), out); // collapsed rows nest their panels
    }
  }

  private static Map<String, Set<String>> namesOf(Map<String, String> expressions) {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    expressions.forEach((k, v) -> out.put(k, metricNames(v)));
    return out;
  }

  private static JsonNode read(ObjectMapper mapper, Path file) {
    try {
      return mapper.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
