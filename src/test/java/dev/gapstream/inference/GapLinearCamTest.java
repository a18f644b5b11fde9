package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CAMs of the tiny GAP→linear model (conv stride 2, 8 features, GAP, Gemm to 4 classes), obtained
 * by the in-memory rewrite that adds the pre-GAP features as an output. Since the GAP and the
 * linear layer commute, the mean of class c's map plus c's bias is c's logit.
 */
class GapLinearCamTest {

  private static FloatBuffer randomBatch(int n, int h, int w) {
    FloatBuffer b = InferenceEngine.allocateBatch(n * 3 * h * w);
    Random r = new Random(11);
    while (b.hasRemaining()) {
      b.put(r.nextFloat() * 2 - 1);
    }
    return b.flip();
  }

  @Test
  void rewriteExposesFeaturesAndMapsAverageToTheLogitsMinusBias() throws Exception {
    Path model = TestModels.ensure("tiny-linear");
    String before = sha256(model);
    OnnxGraph graph = OnnxGraph.read(model);
    ModelSpec spec = ModelSpec.load(model, graph);
    assertThat(spec.camOutput()).isNull();
    float[] bias = graph.floats(GapHeadDetector.detect(graph, "logits").classifier().getInput(2));
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(1))) {
      assertThat(engine.camPlan().kind()).isEqualTo(CamPlan.Kind.FEATURES);
      assertThat(engine.camPlan().describe())
          .startsWith("computed from feature map `")
          .contains("and weights of `");
      BatchResult r = engine.run(randomBatch(2, 30, 42), 2, 30, 42);
      assertThat(r.hasCams()).isTrue();
      assertThat(r.features().channels()).isEqualTo(8);
      assertThat(r.camHeight()).isEqualTo(15);
      assertThat(r.camWidth()).isEqualTo(21);
      for (int i = 0; i < 2; i++) {
        for (int c = 0; c < 4; c++) {
          float[] map = r.cam(i, c);
          double sum = 0;
          for (float v : map) {
            sum += v;
          }
          assertThat(sum / map.length + bias[c]).isCloseTo(r.logits(i)[c], within(1e-5));
          assertThat(map)
              .containsExactly(
                  Arrays.copyOfRange(r.cams(), r.camOffset(i, c), r.camOffset(i, c + 1)));
        }
      }
      ClassActivationMap cam = CamExtractor.fromBatch(r, 1, 3, 0.5f);
      assertThat(cam.width()).isEqualTo(21);
      assertThat(cam.heatmap()).containsExactly(r.cam(1, 3));
    }
    assertThat(sha256(model)).as("the user's file is untouched").isEqualTo(before);
    assertThat(OnnxGraph.read(model).outputs())
        .extracting(TensorInfo::name)
        .containsExactly("logits");
  }

  /**
   * A Gemm classifier scales its product by {@code alpha}: the maps are scaled with it, so each map's
   * mean plus its bias is still its logit. Made without it, a negative alpha flipped every map (the
   * peak on the least activated cell).
   */
  @Test
  void aGemmsAlphaScalesTheMaps(@TempDir Path dir) throws Exception {
    ModelProto.Builder model = ModelProto.parseFrom(Files.readAllBytes(TestModels.ensure("tiny-linear"))).toBuilder();
    for (NodeProto.Builder node : model.getGraphBuilder().getNodeBuilderList()) {
      if (node.getOpType().equals("Gemm")) {
        List<AttributeProto> others = node.getAttributeList().stream().filter(a -> !a.getName().equals("alpha")).toList();
        node.clearAttribute().addAllAttribute(others).addAttribute(AttributeProto.newBuilder()
            .setName("alpha").setType(AttributeProto.AttributeType.FLOAT).setF(-2f));
      }
    }
    Path file = dir.resolve("tiny-linear-alpha.onnx");
    Files.write(file, model.build().toByteArray());
    OnnxGraph graph = OnnxGraph.read(file);
    float[] bias = graph.floats(GapHeadDetector.detect(graph, "logits").classifier().getInput(2));
    try (InferenceEngine engine = InferenceEngine.open(file, ModelSpec.load(file, graph), EngineOptions.cpu(1))) {
      BatchResult r = engine.run(randomBatch(2, 30, 42), 2, 30, 42);
      assertMapsAverageToTheLogitsMinusBias(r, bias);
    }
  }

  /**
   * With CAMs off ({@code cam.enabled=false}) the engine runs the graph as the file has it: the
   * same logits, no features fetched, no stride probed at load.
   */
  @Test
  void camsOffRunsTheGraphAsItIs() {
    Path model = TestModels.ensure("tiny-linear");
    ModelSpec spec = ModelSpec.load(model);
    FloatBuffer batch = randomBatch(2, 30, 42);
    try (InferenceEngine on = InferenceEngine.open(model, spec, EngineOptions.cpu(1));
        InferenceEngine off = InferenceEngine.open(model, spec, EngineOptions.cpu(1).withCams(false))) {
      assertThat(off.camPlan().kind()).isEqualTo(CamPlan.Kind.NONE);
      assertThat(off.camStride()).isNull();
      assertThat(off.fetched()).containsExactly("logits");
      assertThat(on.fetched()).hasSize(2).contains("logits");
      BatchResult withCams = on.run(batch, 2, 30, 42);
      BatchResult without = off.run(batch, 2, 30, 42);
      assertThat(without.hasCams()).isFalse();
      assertThat(without.features()).isNull();
      assertThat(without.logits()).containsExactly(withCams.logits(), within(1e-5f));
    }
  }

  @Test
  void rewrittenBytesDeclareTheFeatureOutput() {
    OnnxGraph graph = OnnxGraph.read(TestModels.ensure("tiny-linear"));
    String pre = GapHeadDetector.detect(graph, "logits").preGapTensor();
    OnnxGraph rewritten = OnnxGraph.parse(graph.withOutputs(List.of(pre)), "rewritten");
    assertThat(rewritten.outputs()).extracting(TensorInfo::name).containsExactly("logits", pre);
    assertThat(rewritten.nodeCount()).isEqualTo(graph.nodeCount());
  }

  /**
   * A linear layer that is a grouped 1×1 convolution (2 groups: class c sees only its group's 4 of
   * the 8 features) makes maps from its group's features: each map's mean plus its bias is the
   * logit. Before, its weights were read as 4 features a class, and every batch failed.
   */
  @Test
  void aGroupedConvolutionsMapsAverageToItsLogits() {
    Path model = TestModels.ensure("tiny-linear-grouped");
    OnnxGraph graph = OnnxGraph.read(model);
    GapHead head = GapHeadDetector.detect(graph, "logits");
    float[] bias = graph.floats(head.classifier().getInput(2));
    float[][] weights = head.classWeights(graph);
    assertThat(weights).hasDimensions(4, 8);
    for (int c = 0; c < 4; c++) {
      for (int k = 0; k < 8; k++) {
        if (k / 4 != c / 2) {
          assertThat(weights[c][k]).as("class %d, feature %d: another group's", c, k).isZero();
        }
      }
    }
    try (InferenceEngine engine = InferenceEngine.open(model, ModelSpec.load(model, graph), EngineOptions.cpu(1))) {
      assertThat(engine.camPlan().kind()).isEqualTo(CamPlan.Kind.FEATURES);
      BatchResult r = engine.run(randomBatch(2, 30, 42), 2, 30, 42);
      assertMapsAverageToTheLogitsMinusBias(r, bias);
    }
  }

  @Test
  void modelWithoutGapHeadRunsWithoutCams() {
    Path model = TestModels.ensure("tiny-fc");
    ModelSpec spec = ModelSpec.load(model);
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(1))) {
      assertThat(engine.camPlan().describe()).isEqualTo("none");
      BatchResult r = engine.run(randomBatch(1, 32, 32), 1, 32, 32);
      assertThat(r.hasCams()).isFalse();
      assertThat(r.cams()).isNull();
    }
  }

  /** Each of the two images' four maps: its mean plus its class's bias is its logit. */
  private static void assertMapsAverageToTheLogitsMinusBias(BatchResult r, float[] bias) {
    for (int i = 0; i < 2; i++) {
      for (int c = 0; c < 4; c++) {
        double sum = 0;
        for (float v : r.cam(i, c)) {
          sum += v;
        }
        assertThat(sum / r.cam(i, c).length + bias[c]).as("image %d, class %d", i, c)
            .isCloseTo(r.logits(i)[c], within(1e-5));
      }
    }
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
