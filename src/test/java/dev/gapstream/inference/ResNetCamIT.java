package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * ResNet-18 (random weights, GAP→linear head) through the engine's rewrite, against PyTorch: the
 * logits, and the top class's CAM computed by {@code tools/reference_cam.py} as Σ_k
 * fc.weight[c,k]·layer4(x)[k] from a forward hook. Both within 1e-4 of max(1, max|reference|).
 */
class ResNetCamIT {
  private static final double TOLERANCE = 1e-4;

  @Test
  void camsAndLogitsMatchPyTorch() throws IOException {
    Path dir = TestModels.referenceCams();
    JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
    Path model = dir.resolve(index.get("model").asText());
    ModelSpec spec = ModelSpec.load(model);
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(2))) {
      assertThat(engine.camPlan().kind()).isEqualTo(CamPlan.Kind.FEATURES);
      assertThat(index.get("cases")).as("reference cases").isNotEmpty();
      for (JsonNode c : index.get("cases")) {
        checkCase(engine, dir, c);
      }
    }
  }

  /**
   * Five stride-2 stages: one CAM cell per 32×32 pixels, measured at load, for the same graph
   * taking frames at any size and resized to 224×224 (the reference model has no descriptor, so its
   * spec is a bare model's fixed 224×224; its graph takes any size).
   */
  @Test
  void theCamGridsStrideIsMeasuredAtLoad() {
    Path model = TestModels.referenceCams().resolve("resnet18.onnx");
    ModelSpec fixed = ModelSpec.load(model);
    ModelSpec anySize =
        new ModelSpec(
            fixed.name(), fixed.version(), fixed.inputName(), fixed.layout(), fixed.channelOrder(),
            fixed.pixelScale(), fixed.mean(), fixed.std(), 32, 32, 0, 0, fixed.maxSide(), fixed.labels(),
            fixed.logitsOutput(), fixed.camOutput(), fixed.head(), fixed.camCellCentre());
    try (InferenceEngine engine = InferenceEngine.open(model, anySize, EngineOptions.cpu(2))) {
      assertThat(engine.camStride()).containsExactly(32, 32);
    }
    // Frames resized to a fixedSize are measured too, where the graph takes any size.
    try (InferenceEngine engine = InferenceEngine.open(model, fixed, EngineOptions.cpu(2))) {
      assertThat(fixed.isFixedSize()).isTrue();
      assertThat(engine.camStride()).containsExactly(32, 32);
    }
  }

  private static void checkCase(InferenceEngine engine, Path dir, JsonNode c) throws IOException {
    JsonNode shape = c.get("input").get("shape");
    int h = shape.get(2).asInt();
    int w = shape.get(3).asInt();
    float[] input = floats(dir, c.get("input"));
    FloatBuffer in = InferenceEngine.allocateBatch(input.length).put(input).flip();
    BatchResult r = engine.run(in, 1, h, w);

    int top = c.get("cam").get("class").asInt();
    assertThat(Scores.argmax(r.logits(), 0, r.classes())).isEqualTo(top);
    assertThat(r.camHeight()).isEqualTo(c.get("cam").get("shape").get(0).asInt());
    assertThat(r.camWidth()).isEqualTo(c.get("cam").get("shape").get(1).asInt());
    String name = c.get("name").asText();
    double logits = relativeError(r.logits(0), floats(dir, c.get("logits")));
    double cam = relativeError(r.cam(0, top), floats(dir, c.get("cam")));
    System.out.printf(
        Locale.ROOT,
        "%s %dx%d: class %d, logits max|diff|/scale %.2e, cam %.2e%n",
        name, w, h, top, logits, cam);
    assertThat(logits).as(name + " logits").isLessThanOrEqualTo(TOLERANCE);
    assertThat(cam).as(name + " cam").isLessThanOrEqualTo(TOLERANCE);
  }

  /** max|actual − expected| / max(1, max|expected|). */
  private static double relativeError(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    double diff = 0;
    double scale = 1;
    for (int i = 0; i < actual.length; i++) {
      diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    return diff / scale;
  }

  private static float[] floats(Path dir, JsonNode entry) throws IOException {
    byte[] bytes = Files.readAllBytes(dir.resolve(entry.get("file").asText()));
    float[] out = new float[bytes.length / Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
