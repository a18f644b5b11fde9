package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.inference.ShippedModelIT.Case;
import java.io.File;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inference.provider=cuda} on the shipped model. Tagged {@code cuda}: the default build
 * leaves these out (its ONNX Runtime has no CUDA provider); {@code ./mvnw -Pcuda test} builds
 * against ONNX Runtime's CUDA build and runs them with the rest, on a machine with an NVIDIA GPU,
 * CUDA 12 and cuDNN 9; tools/gpu-check runs them where the GPU machine has neither CUDA 12 nor a
 * JDK (BENCHMARKS.md, "GPU"). Without a GPU they fail, as they should.
 */
@Tag("cuda")
class CudaEngineTest {

  /**
   * Convolutions on the GPU sum in another order than on the CPU, and may use TF32: a looser
   * tolerance than the CPU's 1e-3 against PyTorch, with the same top class.
   */
  private static final double TOLERANCE = 1e-2;

  @Test
  void theBuildHasTheCudaProvider() {
    assertThat(OrtEnvironment.getAvailableProviders()).contains(OrtProvider.CUDA);
  }

  @Test
  void cudaAgreesWithPyTorchOnTheReferenceFrames() throws IOException {
    List<Case> cases =
        ShippedModelIT.referenceCases(
            new ObjectMapper().readTree(ShippedModelIT.DIR.resolve("reference/index.json").toFile()));
    assertThat(cases).isNotEmpty();
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    try (InferenceEngine gpu = InferenceEngine.open(ShippedModelIT.MODEL, spec, cuda())) {
      for (Case c : cases) {
        FloatBuffer in = InferenceEngine.allocateBatch(c.input().length).put(c.input()).flip();
        BatchResult r = gpu.run(in, 1, (int) c.inputShape()[2], (int) c.inputShape()[3]);
        assertThat(r.isFinite(0)).isTrue();
        assertClose(c.name() + " logits", r.logits(), c.logits());
        assertClose(c.name() + " cam", r.cams(), c.cam());
        assertThat(Scores.argmax(r.logits(), 0, r.classes()))
            .isEqualTo(Scores.argmax(c.logits(), 0, c.logits().length));
      }
    }
  }

  /** Batches of several sizes and frame sizes, as the pipeline runs them: GPU and CPU agree. */
  @Test
  void cudaAgreesWithTheCpuOnBatchesOfAnySize() {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    try (InferenceEngine gpu = InferenceEngine.open(ShippedModelIT.MODEL, spec, cuda());
        InferenceEngine cpu = InferenceEngine.open(ShippedModelIT.MODEL, spec, EngineOptions.cpu(1))) {
      int[][] shapes = {{1, 224, 224}, {8, 224, 224}, {3, 480, 640}, {16, 96, 128}};
      for (int[] s : shapes) {
        int n = s[0];
        int h = s[1];
        int w = s[2];
        FloatBuffer batch = InferenceEngine.allocateBatch(n * 3 * h * w);
        Random random = new Random(n * 31L + h);
        while (batch.hasRemaining()) {
          batch.put(random.nextFloat() * 4 - 2);
        }
        batch.flip();
        BatchResult onGpu = gpu.run(batch.duplicate(), n, h, w);
        BatchResult onCpu = cpu.run(batch.duplicate(), n, h, w);
        String shape = n + "x" + h + "x" + w;
        assertThat(onGpu.size()).isEqualTo(n);
        assertThat(onGpu.camHeight()).as(shape).isEqualTo(onCpu.camHeight());
        assertThat(onGpu.camWidth()).as(shape).isEqualTo(onCpu.camWidth());
        assertClose(shape + " logits", onGpu.logits(), onCpu.logits());
        assertClose(shape + " cams", onGpu.cams(), onCpu.cams());
      }
    }
  }

  /**
   * The model ran on the GPU. ONNX Runtime hands a node that its CUDA provider does not take
   * to the CPU without a word, and a session that did so for every node would pass the agreement
   * tests above. Its profile names the provider that ran each node.
   */
  @Test
  void theModelRunsOnTheGpu(@TempDir Path dir) throws OrtException, IOException {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, Set<String>> providersByOp = new TreeMap<>();
    try (SessionOptions opts = InferenceEngine.sessionOptions(cuda())) {
      opts.enableProfiling(dir.resolve("profile").toString());
      try (OrtSession session = env.createSession(ShippedModelIT.MODEL.toString(), opts);
          OnnxTensor input =
              OnnxTensor.createTensor(
                  env, InferenceEngine.allocateBatch(3 * 224 * 224), new long[] {1, 3, 224, 224})) {
        session.run(Map.of(spec.inputName(), input)).close();
        JsonNode events = new ObjectMapper().readTree(new File(session.endProfiling()));
        for (JsonNode e : events) {
          JsonNode args = e.path("args");
          if (e.path("cat").asText().equals("Node") && args.has("provider")) {
            providersByOp
                .computeIfAbsent(args.path("op_name").asText(), op -> new TreeSet<>())
                .add(args.path("provider").asText());
          }
        }
      }
    }
    System.out.println("providers by operator: " + providersByOp);
    // Every node on the GPU but those that only compute shapes, which a provider may leave to the
    // CPU (ONNX Runtime 1.28.0 put them on the GPU too, on an H200); a Relu may be fused into its
    // Conv.
    Set<String> shapeOnly = Set.of("Shape", "Reshape");
    assertThat(providersByOp.keySet()).contains("ReduceMean").containsAnyOf("Conv", "FusedConv");
    providersByOp.forEach(
        (op, providers) -> {
          if (!shapeOnly.contains(op)) {
            assertThat(providers).as(op).containsExactly("CUDAExecutionProvider");
          }
        });
  }

  private static EngineOptions cuda() {
    return new EngineOptions(1, EngineOptions.Provider.CUDA);
  }

  private static void assertClose(String what, float[] actual, float[] expected) {
    assertThat(actual).as(what + " length").hasSameSizeAs(expected);
    double worst = 0;
    for (int i = 0; i < actual.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
    }
    assertThat(worst).as(what + ": largest relative difference").isLessThanOrEqualTo(TOLERANCE);
  }
}
