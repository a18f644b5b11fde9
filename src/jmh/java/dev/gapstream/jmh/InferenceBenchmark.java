package dev.gapstream.jmh;

import dev.gapstream.bench.ReferenceModels;
import dev.gapstream.inference.BatchResult;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One ResNet-18 (random weights, exported on first use) inference on one 224×224 image: the yard
 * stick the per-frame decode and preprocess cost is compared with. {@code threads} is
 * {@code inference.threads}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class InferenceBenchmark {

  @Param({"2"})
  public int threads;

  private InferenceEngine engine;
  private FloatBuffer tensor;

  @Setup
  public void setUp() {
    Path model = ReferenceModels.ensure("resnet18");
    engine = InferenceEngine.open(model, ModelSpec.load(model), EngineOptions.cpu(threads));
    DecodedFrame frame =
        JmhFixtures.decoder().decode(JmhFixtures.encoded("224x224", "jpeg"), "image/jpeg", null, null);
    tensor = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(224, 224));
    new Preprocessor(engine.spec()).toChw(frame.rgb(), 224, 224, tensor);
    tensor.flip();
  }

  @Benchmark
  public BatchResult resnet18Batch1() {
    return engine.run(tensor, 1, 224, 224);
  }

  @TearDown
  public void tearDown() {
    engine.close();
  }
}
