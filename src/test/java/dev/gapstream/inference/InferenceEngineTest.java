package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The engine on the tiny class-maps model (stride 2: a 40×56 input gives 20×28 maps). */
class InferenceEngineTest {

  private static ModelSpec spec(String cam) {
    return spec(cam, List.of("a", "b", "c", "d"));
  }

  private static ModelSpec spec(String cam, List<String> labels) {
    return new ModelSpec(
        "tiny",
        "1",
        "input",
        "NCHW",
        ChannelOrder.RGB,
        255f,
        new float[] {0, 0, 0},
        new float[] {1, 1, 1},
        0,
        0,
        0,
        0,
        0,
        labels,
        "logits",
        cam,
        HeadKind.CLASS_MAPS_GAP,
        ModelSpec.CELL_MIDDLE);
  }

  private static FloatBuffer randomBatch(int n, int h, int w) {
    FloatBuffer b = InferenceEngine.allocateBatch(1 + n * 3 * h * w);
    Random r = new Random(7);
    b.put(42f); // the batch starts at position 1, to prove the position is honoured
    while (b.hasRemaining()) {
      b.put(r.nextFloat() * 2 - 1);
    }
    return b.position(1);
  }

  @Test
  void returnsLogitsAndClassMapsWhoseAverageIsTheLogit() {
    Path model = TestModels.ensure("tiny-cam");
    try (InferenceEngine engine = InferenceEngine.open(model, spec("cam"), EngineOptions.cpu(1))) {
      FloatBuffer batch = randomBatch(2, 40, 56);
      BatchResult r = engine.run(batch, 2, 40, 56);
      assertThat(batch.position()).isEqualTo(1);
      assertThat(r.size()).isEqualTo(2);
      assertThat(r.classes()).isEqualTo(4);
      assertThat(r.camHeight()).isEqualTo(20);
      assertThat(r.camWidth()).isEqualTo(28);
      assertThat(r.cams()).hasSize(2 * 4 * 20 * 28);
      for (int i = 0; i < 2; i++) {
        assertThat(r.isFinite(i)).isTrue();
        for (int c = 0; c < 4; c++) {
          double sum = 0;
          for (int k = 0; k < 20 * 28; k++) {
            sum += r.cams()[r.camOffset(i, c) + k];
          }
          assertThat(r.logits(i)[c]).isCloseTo((float) (sum / (20 * 28)), within(1e-4f));
        }
      }
      ClassActivationMap cam = CamExtractor.fromBatch(r, 1, 2, CamExtractor.DEFAULT_THRESHOLD);
      assertThat(cam.width()).isEqualTo(28);
      assertThat(cam.box()[0]).isLessThan(cam.box()[2]);
    }
  }

  @Test
  void marksImagesWithNonFiniteLogits() {
    Path model = TestModels.ensure("tiny-cam");
    try (InferenceEngine engine = InferenceEngine.open(model, spec(null), EngineOptions.cpu(1))) {
      FloatBuffer batch = randomBatch(3, 8, 8);
      batch.put(1 + 3 * 64 + 5, Float.NaN); // image 1
      BatchResult r = engine.run(batch, 3, 8, 8);
      // no cam output in the spec, but the detected head's pre-GAP tensor is the class maps
      assertThat(engine.camPlan().describe()).isEqualTo("class-map output `cam`");
      assertThat(r.hasCams()).isTrue();
      assertThat(r.nonFinite()).containsExactly(false, true, false);
    }
  }

  @Test
  void rejectsShortBuffersAndUnknownTensorNames() {
    Path model = TestModels.ensure("tiny-cam");
    try (InferenceEngine engine = InferenceEngine.open(model, spec(null), EngineOptions.cpu(1))) {
      assertThatThrownBy(() -> engine.run(InferenceEngine.allocateBatch(10), 1, 8, 8))
          .isInstanceOf(ModelException.class)
          .hasMessageContaining("needs 192 floats");
    }
    assertThatThrownBy(() -> InferenceEngine.open(model, spec("heat"), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("no output 'heat'");
  }

  /**
   * A model whose output is a Softmax's (probabilities), or a LogSoftmax's: its scores are read
   * before it, so the pipeline's softmax is the only one (the softmax of log-probabilities is the
   * softmax of the logits too), and its GAP head is found behind it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tiny-linear-softmax", "tiny-linear-logsoftmax"})
  void aModelThatOutputsProbabilitiesIsReadBeforeItsSoftmax(String model) {
    Path probabilities = TestModels.ensure(model);
    Path logits = TestModels.ensure("tiny-linear");
    ModelSpec spec = ModelSpec.load(probabilities);
    assertThat(spec.logitsOutput()).isEqualTo("/fc/Gemm_output_0");
    assertThat(spec.head()).isEqualTo(HeadKind.GAP_LINEAR);
    try (InferenceEngine withSoftmax = InferenceEngine.open(probabilities, spec, EngineOptions.cpu(1));
        InferenceEngine without = InferenceEngine.open(logits, ModelSpec.load(logits), EngineOptions.cpu(1))) {
      FloatBuffer batch = randomBatch(2, 32, 40);
      BatchResult a = withSoftmax.run(batch, 2, 32, 40);
      BatchResult b = without.run(batch, 2, 32, 40);
      assertThat(a.logits(1)).containsExactly(b.logits(1), within(1e-5f));
      assertThat(a.hasCams()).isTrue();
    }
  }

  /**
   * A Softmax behind nodes that hand its values on: behind an Identity, its logits are read before
   * it, head found; run in float16 between two Casts (a float16 conversion that keeps float32
   * outputs), its probabilities are read as such. Before, both were taken for logits, and their
   * softmax flattened the scores (0.93 came out as 0.45), the GAP head undetected.
   */
  @Test
  void aSoftmaxBehindPassThroughNodesIsReadOnce() {
    Path identity = TestModels.ensure("tiny-linear-softmax-identity");
    Path fp16 = TestModels.ensure("tiny-linear-softmax-fp16");
    Path logits = TestModels.ensure("tiny-linear");
    ModelSpec behindIdentity = ModelSpec.load(identity);
    assertThat(behindIdentity.logitsOutput()).isEqualTo("test/logits");
    assertThat(behindIdentity.head()).isEqualTo(HeadKind.GAP_LINEAR);
    try (InferenceEngine a = InferenceEngine.open(identity, behindIdentity, EngineOptions.cpu(1));
        InferenceEngine b = InferenceEngine.open(fp16, ModelSpec.load(fp16), EngineOptions.cpu(1));
        InferenceEngine without = InferenceEngine.open(logits, ModelSpec.load(logits), EngineOptions.cpu(1))) {
      FloatBuffer batch = randomBatch(2, 32, 40);
      BatchResult expected = without.run(batch, 2, 32, 40);
      float[] probabilities = Scores.softmax(expected.logits(1), 0, 4);
      assertThat(a.run(batch, 2, 32, 40).logits(1)).containsExactly(expected.logits(1), within(1e-5f));
      // float16 keeps three decimal digits
      assertThat(Scores.softmax(b.run(batch, 2, 32, 40).logits(1), 0, 4)).containsExactly(probabilities, within(2e-3f));
    }
  }

  /**
   * Heads whose scores a softmax would misstate are refused at start-up, saying why: a Sigmoid
   * (multi-label) head, whose softmax flattened every score, and a single logit, whose softmax is
   * 1.0 for every frame. Before, both served, every score wrong.
   */
  @Test
  void headsASoftmaxWouldMisstateAreRefused() {
    assertThatThrownBy(() -> ModelSpec.load(TestModels.ensure("tiny-linear-sigmoid")))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("tiny-linear-sigmoid.onnx: output 'probabilities' is computed by a Sigmoid, a multi-label head");
    Path oneClass = TestModels.ensure("tiny-cam-1class");
    assertThatThrownBy(() -> InferenceEngine.open(oneClass, ModelSpec.load(oneClass), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("tiny-cam-1class.onnx: output 'logits' has one class, whose softmax scores every frame 1.0");
  }

  /**
   * An output gapstream reads as floats but the model computes in another type is refused at load,
   * naming it: a model whose logits were cast to float64 loaded, and every run then failed with a
   * bare NullPointerException (the service's warm-up, with nothing naming the model).
   */
  @Test
  void logitsThatAreNotFloatsAreRefusedAtLoad() {
    Path model = TestModels.ensure("tiny-linear-double");
    for (boolean cams : new boolean[] {true, false}) {
      assertThatThrownBy(() -> InferenceEngine.open(model, ModelSpec.load(model), EngineOptions.cpu(1).withCams(cams)))
          .as("cams %s", cams)
          .isInstanceOf(ModelException.class)
          .hasMessageContaining("tiny-linear-double.onnx: output 'logits' holds DOUBLE values; gapstream reads float32");
    }
  }

  /**
   * The head the graph shows is the one reported (gapstream_model_info's {@code head}), whatever
   * the spec says: a model.json without {@code head} reported "none" while CAMs were served.
   */
  @Test
  void theHeadIsTheGraphsWhereItShowsOne() {
    Path model = TestModels.ensure("tiny-linear");
    ModelSpec saysNone = ModelSpec.load(model).withLogits("logits", HeadKind.NONE);
    try (InferenceEngine engine = InferenceEngine.open(model, saysNone, EngineOptions.cpu(1))) {
      assertThat(engine.head()).isEqualTo(HeadKind.GAP_LINEAR);
    }
  }

  /**
   * Inputs gapstream cannot feed fail the load saying what it feeds: channels last (NHWC, as
   * tf2onnx exports Keras models), whose 3 channels were taken for a fixed width of 3 and the user
   * told to set "fixedSize": {"width": 3}; and a uint8 input, which loaded and then failed the
   * warm-up in ONNX Runtime's words.
   */
  @Test
  void inputsGapstreamCannotFeedFailTheLoadSayingWhy(@TempDir Path dir) throws IOException {
    Path nhwc = dir.resolve("nhwc.onnx");
    Files.write(nhwc, meanOverAxes(TensorProto.DataType.FLOAT, new long[] {-1, -1, -1, 3}, 1, 2));
    assertThatThrownBy(() -> InferenceEngine.open(nhwc, spec(null, List.of("a", "b", "c")), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("nhwc.onnx: input 'input' has shape [-1, -1, -1, 3], channels last (NHWC")
        .hasMessageContaining("--inputs-as-nchw input");
    Path bytes = dir.resolve("uint8.onnx");
    Files.write(bytes, meanOverAxes(TensorProto.DataType.UINT8, new long[] {-1, 3, -1, -1}, 2, 3));
    assertThatThrownBy(() -> InferenceEngine.open(bytes, spec(null, List.of("a", "b", "c")), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("uint8.onnx: input 'input' takes UINT8 values; gapstream feeds float32");
  }

  /**
   * A model whose "logits" [N, 3] are the mean of its input (of {@code type}, shape {@code input},
   * -1 dynamic) over {@code axes}, cast to float.
   */
  private static byte[] meanOverAxes(TensorProto.DataType type, long[] input, long... axes) {
    GraphProto g = GraphProto.newBuilder()
        .setName("mean")
        .addInput(valueInfo("input", type, input))
        .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("input").addOutput("x")
            .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                .setI(TensorProto.DataType.FLOAT_VALUE)))
        .addNode(NodeProto.newBuilder().setOpType("ReduceMean").addInput("x").addOutput("logits")
            .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS)
                .addAllInts(java.util.Arrays.stream(axes).boxed().toList()))
            .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT)
                .setI(0)))
        .addOutput(valueInfo("logits", TensorProto.DataType.FLOAT, new long[] {-1, 3}))
        .build();
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, long[] dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (int i = 0; i < dims.length; i++) {
      shape.addDim(dims[i] < 0
          ? TensorShapeProto.Dimension.newBuilder().setDimParam("d" + i)
          : TensorShapeProto.Dimension.newBuilder().setDimValue(dims[i]));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
        .build();
  }

  /**
   * A graph fixed at a size its stride does not divide (33 pixels at stride 2: 17 cells over 34)
   * places its maps as the same net exported with dynamic axes does. Before, its stride was not
   * measured and its maps were taken to tile the frame: peaks up to a cell short, and a model
   * placed otherwise for how it was exported.
   */
  @Test
  void aGraphFixedAtASizeItsStrideDoesNotDivideSpansAsTheDynamicOne() {
    Path fixed = TestModels.ensure("tiny-cam-fixed33");
    Path dynamic = TestModels.ensure("tiny-cam");
    try (InferenceEngine f = InferenceEngine.open(fixed, sized(spec(null), 33, 33), EngineOptions.cpu(1));
        InferenceEngine d = InferenceEngine.open(dynamic, spec(null), EngineOptions.cpu(1))) {
      assertThat(f.camStride()).containsExactly(2, 2);
      FloatBuffer batch = randomBatch(1, 33, 33);
      BatchResult a = f.run(batch, 1, 33, 33);
      BatchResult b = d.run(batch, 1, 33, 33);
      assertThat(a.camSpanX()).isEqualTo(34f / 33).isEqualTo(b.camSpanX());
      assertThat(a.camSpanY()).isEqualTo(34f / 33).isEqualTo(b.camSpanY());
    }
  }

  @Test
  void theStrideOfAFixedGridIsThePowerOfTwoThatGivesIt() {
    assertThat(InferenceEngine.powerOfTwoStride(300, 10)).isEqualTo(32); // EfficientNet-B3's input
    assertThat(InferenceEngine.powerOfTwoStride(224, 7)).isEqualTo(32);
    assertThat(InferenceEngine.powerOfTwoStride(36, 5)).isEqualTo(8);
    assertThat(InferenceEngine.powerOfTwoStride(224, 6)).isZero(); // unpadded convolutions: none fits
    assertThat(InferenceEngine.powerOfTwoStride(224, 1)).isZero(); // one cell: any stride from 224
  }

  /** A graph exported with its batch fixed at 1 (PyTorch without dynamic_axes) takes batches of 1. */
  @Test
  void aModelWithItsBatchFixedAtOneTakesBatchesOfOne() {
    try (InferenceEngine fixed = InferenceEngine.open(TestModels.ensure("tiny-cam-batch1"), spec(null), EngineOptions.cpu(1));
        InferenceEngine dynamic = InferenceEngine.open(TestModels.ensure("tiny-cam"), spec(null), EngineOptions.cpu(1))) {
      assertThat(fixed.maxBatch()).isEqualTo(1);
      assertThat(dynamic.maxBatch()).isEqualTo(Integer.MAX_VALUE);
      BatchResult r = fixed.run(randomBatch(1, 32, 48), 1, 32, 48);
      assertThat(r.classes()).isEqualTo(4);
      assertThat(r.hasCams()).isTrue();
    }
  }

  /**
   * A graph fixed at one image size (tiny-fc: 32x32) under a spec of another, or of none, fails the
   * load naming both: the warm-up at the spec's size may pass, and every other frame failed.
   */
  @Test
  void aGraphFixedAtOneSizeNeedsTheSpecsFixedSize() {
    Path model = TestModels.ensure("tiny-fc");
    ModelSpec bare = ModelSpec.load(model);
    assertThatThrownBy(() -> InferenceEngine.open(model, sized(bare, 0, 0), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("input 'input' has shape [-1, 3, 32, 32], a fixed image size, but model.json gives no"
            + " fixedSize: frames would run at their own size and fail; set \"fixedSize\": {\"width\": 32, \"height\": 32}");
    assertThatThrownBy(() -> InferenceEngine.open(model, sized(bare, 32, 48), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("model.json gives a fixedSize of 32x48 (width x height)");
    try (InferenceEngine engine = InferenceEngine.open(model, bare, EngineOptions.cpu(1))) {
      assertThat(engine.run(randomBatch(1, 32, 32), 1, 32, 32).classes()).isEqualTo(4);
    }
  }

  private static ModelSpec sized(ModelSpec s, int width, int height) {
    return new ModelSpec(
        s.name(), s.version(), s.inputName(), s.layout(), s.channelOrder(), s.pixelScale(), s.mean(), s.std(), 0, 0,
        width, height, 0, s.labels(), s.logitsOutput(), s.camOutput(), s.head(), s.camCellCentre());
  }

  /**
   * Labels that do not match the classes (a background class at 0 with one label short would name
   * every prediction after its neighbour), and a class-map output that is not one NCHW map per
   * class, fail the load naming what is wrong, not the predictions later.
   */
  @Test
  void labelsAndClassMapsThatDoNotFitTheLogitsFailTheLoad() {
    Path model = TestModels.ensure("tiny-cam");
    assertThatThrownBy(() -> InferenceEngine.open(model, spec(null, List.of("a", "b", "c")), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("output 'logits' has 4 classes, and the model's labels are 3 (model.json 'labels')");
    assertThatThrownBy(() -> InferenceEngine.open(model, spec("logits"), EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("class-map tensor 'logits' has shape [-1, 4]; class maps are 4-D, NCHW");
  }

  /**
   * Logits named after the class-map output (its dimension 1 is the class count too) passed the
   * load: every frame's softmax ran over map cells, a "class" per cell. A rank other than [batch,
   * classes] fails the load.
   */
  @Test
  void logitsThatAreNotOneScorePerClassFailTheLoad() {
    Path model = TestModels.ensure("tiny-cam");
    ModelSpec spec = spec(null);
    ModelSpec camAsLogits = new ModelSpec(spec.name(), spec.version(), spec.inputName(), spec.layout(),
        spec.channelOrder(), spec.pixelScale(), spec.mean(), spec.std(), 0, 0, 0, 0, 0, spec.labels(), "cam", null,
        spec.head(), spec.camCellCentre());
    assertThatThrownBy(() -> InferenceEngine.open(model, camAsLogits, EngineOptions.cpu(1)))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("output 'cam' has shape [")
        .hasMessageContaining("logits are [batch, classes] (or [batch, classes, 1, 1])");
  }

  /**
   * A stop whose drain timed out closes the engine while a batch may still run on it: the close
   * waits for it, so the batch ends with its result, and only later runs are refused. (Without the
   * wait the session is freed under the run: a crash of the test JVM, or a failed run.)
   */
  @Test
  void closeWaitsForTheBatchRunningOnTheSession() throws Exception {
    Path model = TestModels.ensure("tiny-cam");
    FloatBuffer batch = randomBatch(8, 720, 1280);
    InferenceEngine engine = InferenceEngine.open(model, spec(null), EngineOptions.cpu(1));
    float[] expected = engine.run(batch, 8, 720, 1280).logits(7);
    CompletableFuture<BatchResult> running = CompletableFuture.supplyAsync(() -> engine.run(batch, 8, 720, 1280));
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1)).until(() -> engine.running() == 1);
    engine.close();

    BatchResult r = running.get(1, TimeUnit.MINUTES);
    assertThat(r.logits(7)).containsExactly(expected, within(1e-5f));
    assertThatThrownBy(() -> engine.run(batch, 8, 720, 1280))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("closed");
    engine.close(); // again: nothing to do
  }

  /** The CPU build only: {@code -Pcuda} leaves this out and runs {@link CudaEngineTest} instead. */
  @Test
  @Tag("cpu-build")
  void cudaWithoutTheCudaBuildNamesTheConfigKey() {
    Path model = TestModels.ensure("tiny-cam");
    EngineOptions cuda = new EngineOptions(1, EngineOptions.Provider.fromConfig("cuda"));
    assertThatThrownBy(() -> InferenceEngine.open(model, spec(null), cuda))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("inference.provider")
        .hasMessageContaining("-Pcuda");
  }

  @Test
  void anUnknownProviderNamesTheConfigKey() {
    assertThatThrownBy(() -> EngineOptions.Provider.fromConfig("tpu"))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("inference.provider");
  }
}
