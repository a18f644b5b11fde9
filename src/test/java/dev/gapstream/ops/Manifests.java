package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Renders kustomizations with the real kubectl and reads multi-document YAML. */
final class Manifests {

  private static final ObjectMapper YAML = new YAMLMapper();
  // kubectl takes ~1 s a render on two cores; tests share renders and get private copies.
  private static final Map<String, List<JsonNode>> RENDERED = new ConcurrentHashMap<>();

  private Manifests() {}

  /** {@code kubectl kustomize dir} as a list of documents; fails the test with kubectl's output. */
  static List<JsonNode> render(String dir) {
    return RENDERED.computeIfAbsent(dir, Manifests::renderOnce).stream()
        .<JsonNode>map(JsonNode::deepCopy).toList();
  }

  private static List<JsonNode> renderOnce(String dir) {
    ExternalTool.Result r =
        ExternalTool.run(
            ExternalTool.repoRoot(), ExternalTool.kubectl().toString(), "kustomize", dir);
    assertThat(r.ok()).as("kubectl kustomize %s failed:%n%s", dir, r.output()).isTrue();
    return parseAll(r.output());
  }

  static List<JsonNode> parseAll(String yaml) {
    try (var parser = new YAMLFactory().createParser(yaml)) {
      List<JsonNode> docs = new ArrayList<>();
      YAML.readValues(parser, JsonNode.class).forEachRemaining(d -> {
        if (d != null && !d.isMissingNode() && !d.isNull()) {
          docs.add(d);
        }
      });
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode read(Path file) {
    try {
      return YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  static JsonNode only(List<JsonNode> docs, String kind) {
    List<JsonNode> found = docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    assertThat(found).as("exactly one %s", kind).hasSize(1);
    return found.get(0);
  }
}
