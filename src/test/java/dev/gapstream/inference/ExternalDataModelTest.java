package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose weights are stored beside the graph ({@code tiny-linear-external.onnx.data}), as
 * exporters write models over 2 GB. Its CAMs need the graph rewritten in memory, and the rewritten
 * bytes have no file for ONNX Runtime to look beside; the tests run from the project directory,
 * not the model's, so a lookup against the working directory fails.
 */
class ExternalDataModelTest {

  @Test
  void servesTheSameScoresAndMapsAsTheSameModelWithItsWeightsInside() {
    Path inside = TestModels.ensure("tiny-linear");
    Path beside = TestModels.ensure("tiny-linear-external");
    assertThat(beside.resolveSibling("tiny-linear-external.onnx.data")).exists();
    assertThat(OnnxGraph.read(beside).externalDataDirectory()).contains(beside.getParent());
    assertThat(OnnxGraph.read(inside).externalDataDirectory()).isEmpty();

    BatchResult expected = run(inside);
    BatchResult actual = run(beside);
    assertThat(actual.hasCams()).isTrue();
    for (int i = 0; i < 2; i++) {
      assertThat(actual.logits(i)).containsExactly(expected.logits(i));
    }
    assertThat(actual.cams()).containsExactly(expected.cams());
  }

  @Test
  void inspectMeasuresItsFeatureMap() {
    ModelAnalysis inside = ModelAnalysis.analyze(TestModels.ensure("tiny-linear"));
    ModelAnalysis beside = ModelAnalysis.analyze(TestModels.ensure("tiny-linear-external"));
    assertThat(beside.featureShape()).isNotNull().isEqualTo(inside.featureShape());
    assertThat(beside.cam()).isEqualTo(inside.cam());
  }

  @Test
  void aLocationOutsideTheModelsDirectoryIsRefused(@TempDir Path dir) throws Exception {
    assertThat(headWeightsError(copyWithLocations(dir, "../tiny-linear-external.onnx.data")))
        .contains("leaves " + dir);
  }

  @Test
  void aMissingOrShortDataFileIsNamed(@TempDir Path dir) throws Exception {
    Path model = copyWithLocations(dir, "tiny-linear-external.onnx.data");
    assertThat(headWeightsError(model))
        .contains(dir.resolve("tiny-linear-external.onnx.data") + " does not exist");
    Files.write(dir.resolve("tiny-linear-external.onnx.data"), new byte[16]);
    assertThat(headWeightsError(model)).contains("ends before the tensor's");
  }

  /** The error reading the linear head's weights (for CAMs) gives, which names them. */
  private static String headWeightsError(Path model) {
    OnnxGraph graph = OnnxGraph.read(model);
    String weight = GapHeadDetector.detect(graph, "logits").classifier().getInput(1);
    Throwable thrown = catchThrowable(() -> graph.floats(weight));
    assertThat(thrown).isInstanceOf(ModelException.class).hasMessageContaining(weight);
    return thrown.getMessage();
  }

  private static BatchResult run(Path model) {
    try (InferenceEngine engine =
        InferenceEngine.open(model, ModelSpec.load(model), EngineOptions.cpu(1))) {
      assertThat(engine.camPlan().kind()).isEqualTo(CamPlan.Kind.FEATURES);
      FloatBuffer batch = InferenceEngine.allocateBatch(2 * 3 * 30 * 42);
      Random r = new Random(5);
      while (batch.hasRemaining()) {
        batch.put(r.nextFloat() * 2 - 1);
      }
      return engine.run(batch.flip(), 2, 30, 42);
    }
  }

  /** The external model's graph written to {@code dir} with each location set to {@code location}. */
  private static Path copyWithLocations(Path dir, String location) throws Exception {
    ModelProto m =
        ModelProto.parseFrom(Files.readAllBytes(TestModels.ensure("tiny-linear-external")));
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (TensorProto.Builder t : g.getInitializerBuilderList()) {
      for (int i = 0; i < t.getExternalDataCount(); i++) {
        if (t.getExternalData(i).getKey().equals("location")) {
          t.setExternalData(
              i, StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        }
      }
    }
    Path out = dir.resolve("model.onnx");
    Files.write(out, m.toBuilder().setGraph(g).build().toByteArray());
    return out;
  }
}
