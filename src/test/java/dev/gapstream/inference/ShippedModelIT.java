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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shipped model, {@code models/gapnet-shapes/}: its head, and agreement of ONNX Runtime with
 * the PyTorch outputs the training export stored under {@code reference/}.
 */
class ShippedModelIT {
  static final Path DIR =
      Path.of(System.getProperty("gapstream.home", ".")).resolve("models/gapnet-shapes");
  static final Path MODEL = DIR.resolve("model.onnx");

  /** One stored case: a preprocessed input [1,3,H,W] and PyTorch's logits and class maps. */
  record Case(String name, long[] inputShape, float[] input, float[] logits, float[] cam) {}

  /**
   * Reads {@code reference/index.json}: {"tolerance":{"logits":t,"cam":t},"cases":[{"name":..,
   * "input":{"file":..,"shape":[..]},"logits":{..},"cam":{..}}]}, files raw little-endian
   * float32. The one place to change if the export's format changes.
   */
  static List<Case> referenceCases(JsonNode index) throws IOException {
    List<Case> cases = new ArrayList<>();
    for (JsonNode c : index.get("cases")) {
      long[] shape = new long[c.get("input").get("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = c.get("input").get("shape").get(i).asLong();
      }
      cases.add(
          new Case(
              c.get("name").asText(),
              shape,
              floats(c.get("input")),
              floats(c.get("logits")),
              floats(c.get("cam"))));
    }
    return cases;
  }

  private static float[] floats(JsonNode entry) throws IOException {
    byte[] bytes = Files.readAllBytes(DIR.resolve("reference").resolve(entry.get("file").asText()));
    float[] out = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  @Test
  void inspectReportsAClassMapsGapHead() {
    ModelAnalysis a = ModelAnalysis.analyze(MODEL);
    ModelSpec spec = ModelSpec.load(MODEL);
    assertThat(a.head()).isEqualTo("class-maps-gap");
    assertThat(spec.head()).isEqualTo(HeadKind.CLASS_MAPS_GAP);
    assertThat(a.classes()).isEqualTo(spec.labels().size());
    // The class-map convolution is K→C 1×1 with a bias: K·C + C parameters, K the channels of the
    // feature maps the model gives (measured by running it, not counted from the head).
    long k = a.featureShape().get(0);
    assertThat(a.headParams()).isEqualTo(k * a.classes() + a.classes());
    assertThat(a.bodyParams()).isPositive();
    assertThat(a.fcHeadParams()).isGreaterThan(10 * a.headParams());
  }

  /**
   * Three padded stride-2 convolutions: one CAM cell per 8×8 pixels, and a grid rounded up where a
   * frame is not a multiple of 8 (250×170: 32×22 cells, 256×176 pixels).
   */
  @Test
  void theCamGridsStrideIsMeasuredAndItsSpanGivenPerBatch() {
    ModelSpec spec = ModelSpec.load(MODEL);
    try (InferenceEngine engine = InferenceEngine.open(MODEL, spec, EngineOptions.cpu(1))) {
      assertThat(engine.camStride()).containsExactly(8, 8);
      BatchResult odd = engine.run(InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(250, 170)), 1, 170, 250);
      assertThat(odd.camWidth()).isEqualTo(32);
      assertThat(odd.camHeight()).isEqualTo(22);
      assertThat(odd.camSpanX()).isEqualTo(256f / 250);
      assertThat(odd.camSpanY()).isEqualTo(176f / 170);
      BatchResult exact = engine.run(InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(256, 192)), 1, 192, 256);
      assertThat(exact.camSpanX()).isEqualTo(1f);
      assertThat(exact.camSpanY()).isEqualTo(1f);
    }
  }

  @Test
  void onnxRuntimeAgreesWithPyTorch() throws IOException {
    JsonNode index = new ObjectMapper().readTree(DIR.resolve("reference/index.json").toFile());
    double tolLogits = index.path("tolerance").path("logits").asDouble(1e-3);
    double tolCam = index.path("tolerance").path("cam").asDouble(1e-3);
    List<Case> cases = referenceCases(index);
    assertThat(cases).isNotEmpty();
    ModelSpec spec = ModelSpec.load(MODEL);
    try (InferenceEngine engine = InferenceEngine.open(MODEL, spec, EngineOptions.cpu(2))) {
      for (Case c : cases) {
        FloatBuffer in = InferenceEngine.allocateBatch(c.input().length).put(c.input()).flip();
        BatchResult r = engine.run(in, 1, (int) c.inputShape()[2], (int) c.inputShape()[3]);
        assertThat(r.isFinite(0)).isTrue();
        assertClose(c.name() + " logits", r.logits(), c.logits(), tolLogits);
        assertClose(c.name() + " cam", r.cams(), c.cam(), tolCam);
        assertThat(Scores.argmax(r.logits(), 0, r.classes()))
            .isEqualTo(Scores.argmax(c.logits(), 0, c.logits().length));
      }
    }
  }

  private static void assertClose(String what, float[] actual, float[] expected, double tol) {
    assertThat(actual).as(what + " length").hasSameSizeAs(expected);
    double worst = 0;
    for (int i = 0; i < actual.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
    }
    assertThat(worst).as(what + ": largest relative difference").isLessThanOrEqualTo(tol);
  }
}
