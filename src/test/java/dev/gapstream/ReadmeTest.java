package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.cli.ConfigCommand;
import dev.gapstream.config.ConfigKeys;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README is part of the contract: it must name what the code has, and CI must run its command. */
class ReadmeTest {

  private static final Path HOME = Path.of(System.getProperty("gapstream.home", "."));

  private static String read(String file) throws IOException {
    return Files.readString(HOME.resolve(file));
  }

  @Test
  void documentsEveryConfigurationKey() throws IOException {
    String readme = read("README.md");
    assertThat(ConfigKeys.DEF.keys().keySet()).allSatisfy(key -> assertThat(readme).contains("`" + key + "`"));
  }

  /** The table is what {@code gapstream config --keys} prints, so the two cannot drift apart. */
  @Test
  void theConfigurationTableIsConfigKeys() throws IOException {
    assertThat(read("README.md")).contains(ConfigCommand.keyTable());
  }

  @Test
  void documentsEveryMetric() throws IOException {
    String readme = read("README.md");
    assertThat(GapstreamMetrics.PROMETHEUS_NAMES).allSatisfy(name -> assertThat(readme).contains(name));
  }

  @Test
  void ciRunsTheReadmesTestCommand() throws IOException {
    assertThat(read("README.md")).contains("./gapstream demo --frames 2000", "./mvnw verify");
    assertThat(read(".ci/run")).containsPattern("(?m)^\\./mvnw -B verify$");
  }

  /**
   * The README's prediction example has the fields, nesting and JSON types gapstream writes, and
   * its text names every heatmap field: a renamed record component would otherwise leave the
   * contract users code against describing messages that no longer exist.
   */
  @Test
  void thePredictionExampleIsWhatGapstreamWrites() throws IOException {
    String readme = read("README.md");
    Matcher block = Pattern.compile("Output, topic `predictions`.*?```json\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(block.find()).as("the predictions example in README.md").isTrue();
    JsonNode example = JSON.readTree(block.group(1));

    Prediction written = new Prediction(
        "frames-3-1234",
        new Prediction.Source("frames", 3, 1234, 1764300000000L),
        new Prediction.Model("gapnet-shapes", "1"),
        List.of(new Prediction.Score("circle", 0, 0.973), new Prediction.Score("ring", 5, 0.011)),
        new Prediction.Cam("circle", new Prediction.Point(0.42, 0.61), new double[] {0.3, 0.48, 0.55, 0.74}, null),
        16,
        new Prediction.Latency(3.1, 12.0, 18.0));
    assertThat(shape(example, "", new TreeMap<>()))
        .isEqualTo(shape(JSON.readTree(PredictionJson.toBytes(written)), "", new TreeMap<>()));
    for (RecordComponent field : Prediction.Heatmap.class.getRecordComponents()) {
      assertThat(readme).contains("\"" + field.getName() + "\":");
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every field's path and JSON type; an array's elements under {@code path[]}. */
  private static Map<String, JsonNodeType> shape(JsonNode node, String path, Map<String, JsonNodeType> out) {
    out.put(path, node.getNodeType());
    if (node.isObject()) {
      node.properties().forEach(e -> shape(e.getValue(), path + "." + e.getKey(), out));
    } else if (node.isArray()) {
      node.forEach(element -> shape(element, path + "[]", out));
    }
    return out;
  }
}
