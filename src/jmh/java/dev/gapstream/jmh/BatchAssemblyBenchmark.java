package dev.gapstream.jmh;

import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import java.nio.FloatBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batch tensor assembly on an inference worker: {@code batch} decoded 224×224 frames normalised
 * one after the other into one direct buffer, as the batch runner does before each run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BatchAssemblyBenchmark {

  @Param({"16"})
  public int batch;

  private Preprocessor preprocessor;
  private DecodedFrame[] frames;
  private FloatBuffer tensor;

  @Setup
  public void setUp() {
    preprocessor = new Preprocessor(JmhFixtures.spec());
    frames = new DecodedFrame[batch];
    for (int i = 0; i < batch; i++) {
      frames[i] = JmhFixtures.decoder().decode(JmhFixtures.encoded("224x224", "jpeg"), "image/jpeg", null, null);
    }
    tensor = InferenceEngine.allocateBatch(batch * Preprocessor.floatsPerImage(224, 224));
  }

  @Benchmark
  public FloatBuffer assemble() {
    tensor.clear();
    for (DecodedFrame f : frames) {
      preprocessor.toChw(f.rgb(), f.width(), f.height(), tensor);
    }
    tensor.flip();
    return tensor;
  }
}
