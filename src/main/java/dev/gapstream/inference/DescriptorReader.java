package dev.gapstream.inference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a {@code model.json} descriptor into a {@link ModelSpec}. Every error names the file and
 * the offending field. Stateless.
 */
final class DescriptorReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DescriptorReader() {}

  static ModelSpec read(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ModelException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelException(file + ": expected a JSON object");
    }
    try {
      return toSpec(root);
    } catch (IllegalArgumentException | ModelException e) {
      throw new ModelException(file + ": " + e.getMessage(), e);
    }
  }

  /** The fields a descriptor may have, and those of its objects. */
  private static final Set<String> FIELDS = Set.of(
      "name", "version", "input", "layout", "channelOrder", "pixelScale", "mean", "std", "minSize", "fixedSize",
      "maxSide", "labels", "outputs", "head", "camCellCentre");
  private static final Set<String> SIZE_FIELDS = Set.of("width", "height");
  private static final Set<String> OUTPUT_FIELDS = Set.of("logits", "cam");

  private static ModelSpec toSpec(JsonNode root) {
    rejectUnknown(root, "", FIELDS);
    rejectUnknown(root.path("minSize"), "minSize.", SIZE_FIELDS);
    rejectUnknown(root.path("fixedSize"), "fixedSize.", SIZE_FIELDS);
    rejectUnknown(root.path("outputs"), "outputs.", OUTPUT_FIELDS);
    JsonNode min = root.path("minSize");
    JsonNode fixed = root.path("fixedSize");
    JsonNode outputs = root.path("outputs");
    String cam = outputs.path("cam").isTextual() ? outputs.path("cam").asText() : null;
    return new ModelSpec(
        text(root, "name", null),
        text(root, "version", "0"),
        text(root, "input", null),
        text(root, "layout", "NCHW"),
        channelOrder(text(root, "channelOrder", "RGB")),
        (float) number(root, "pixelScale", 255.0),
        triple(root, "mean"),
        triple(root, "std"),
        (int) number(min, "width", 0),
        (int) number(min, "height", 0),
        (int) number(fixed, "width", 0),
        (int) number(fixed, "height", 0),
        wholeNumber(root, "maxSide"),
        labels(root),
        text(outputs, "logits", null),
        cam,
        HeadKind.fromId(text(root, "head", "none")),
        (float) number(root, "camCellCentre", ModelSpec.CELL_MIDDLE));
  }

  /**
   * A field gapstream does not read is refused, with the known one it is likeliest meant to be: a
   * misspelt {@code camCellCenter} or {@code maxside} was ignored, and frames were served at full
   * size, their CAM peaks off by half a cell.
   */
  private static void rejectUnknown(JsonNode node, String prefix, Set<String> known) {
    if (!node.isObject()) {
      return;
    }
    for (String field : (Iterable<String>) node::fieldNames) {
      if (!known.contains(field)) {
        throw new IllegalArgumentException("unknown field '" + prefix + field + "'"
            + ConfigLoader.suggestion(field, known)
            + " (fields: " + String.join(", ", new TreeSet<>(known)) + ")");
      }
    }
  }

  /** As {@code head}, in any case: "rgb" failed with "No enum constant ...ChannelOrder.rgb". */
  private static ChannelOrder channelOrder(String value) {
    for (ChannelOrder order : ChannelOrder.values()) {
      if (order.name().equalsIgnoreCase(value)) {
        return order;
      }
    }
    throw new IllegalArgumentException("unknown channelOrder '" + value + "' (expected RGB or BGR)");
  }

  private static String text(JsonNode node, String field, String fallback) {
    JsonNode v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      if (fallback == null) {
        throw new IllegalArgumentException("field '" + field + "' is missing");
      }
      return fallback;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' must be a string");
    }
    return v.asText();
  }

  private static double number(JsonNode node, String field, double fallback) {
    JsonNode v = node.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return fallback;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a number");
    }
    return v.asDouble();
  }

  /** A field that counts pixels: a whole number, 0 when absent. */
  private static int wholeNumber(JsonNode node, String field) {
    double v = number(node, field, 0);
    if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("field '" + field + "' must be a whole number of pixels, not " + v);
    }
    return (int) v;
  }

  private static float[] triple(JsonNode root, String field) {
    JsonNode v = root.path(field);
    if (!v.isArray() || v.size() != 3) {
      throw new IllegalArgumentException("field '" + field + "' must be an array of 3 numbers");
    }
    float[] out = new float[3];
    for (int i = 0; i < 3; i++) {
      if (!v.get(i).isNumber()) {
        throw new IllegalArgumentException("field '" + field + "' must be an array of 3 numbers");
      }
      out[i] = (float) v.get(i).asDouble();
    }
    return out;
  }

  private static List<String> labels(JsonNode root) {
    JsonNode v = root.path("labels");
    if (!v.isArray() || v.isEmpty()) {
      throw new IllegalArgumentException("field 'labels' must be a non-empty array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode label : v) {
      if (!label.isTextual()) {
        throw new IllegalArgumentException(
            "field 'labels' must be a non-empty array of strings; element " + out.size() + " is " + label);
      }
      out.add(label.asText());
    }
    return out;
  }
}
