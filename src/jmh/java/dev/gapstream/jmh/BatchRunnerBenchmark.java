package dev.gapstream.jmh;

import dev.gapstream.batch.Batch;
import dev.gapstream.bench.ModelTime;
import dev.gapstream.bench.Workload;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.ModelBatchRunner;
import dev.gapstream.pipeline.Outcome;
import dev.gapstream.pipeline.Shape;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * What an inference worker does with a batch of the shipped model, side by side with ONNX
 * Runtime's runs alone: {@code worker} is the pipeline's batch runner (the frames' pixels to
 * floats, the runs, then top-k, the CAM and the prediction's JSON for each frame), {@code model}
 * the same runs on the same tensor. {@code batch} 224×224 JPEG frames, one ONNX Runtime thread, on
 * {@code provider} ({@code -p provider=cuda} on a GPU machine). Their difference is the worker's
 * own part, which a GPU does not shorten. At the end of each fork it prints {@code worker}'s
 * batches of the measurement iterations split into the parts the pipeline times: the tensor, the
 * run and the results, each a mean per batch. {@code run}: frames per run of the model within the batch, as
 * {@code batch.run.max.pixels} sets them (0: the whole batch in one run; e.g. {@code -p run=0,2}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchRunnerBenchmark {

  @Param({"16"})
  public int batch;

  @Param({"cpu"})
  public String provider;

  @Param({"0"})
  public int run;

  private InferenceEngine engine;
  private GapstreamMetrics metrics;
  private ModelBatchRunner runner;
  private Batch<Shape, Frame> frames;
  private FloatBuffer tensor;
  /** Frames per run of the model, as {@code worker}'s runner splits the batch. */
  private int runSize;
  /** The timers' reading when the first measurement iteration began; null before it. */
  private ModelTime measuredFrom;

  @Setup
  public void setUp() {
    Path model =
        Path.of(System.getProperty("gapstream.home", ".")).resolve("models/gapnet-shapes/model.onnx");
    ModelSpec spec = ModelSpec.load(model);
    engine =
        InferenceEngine.open(
            model, spec, new EngineOptions(1, EngineOptions.Provider.valueOf(provider.toUpperCase(Locale.ROOT))));
    metrics = GapstreamMetrics.create();
    GapstreamConfig config = ConfigLoader.builder().set(batchSettings()).load();
    runner = new Workload(config, spec, List.of()).runner(engine, metrics);
    runSize = config.batch().policy().runSizeFor(224 * 224);
    FrameDecoder decoder = JmhFixtures.decoder();
    byte[] jpeg = JmhFixtures.encoded("224x224", "jpeg");
    List<Frame> items = new ArrayList<>(batch);
    tensor = InferenceEngine.allocateBatch(batch * Preprocessor.floatsPerImage(224, 224));
    Preprocessor preprocessor = new Preprocessor(spec);
    for (int i = 0; i < batch; i++) {
      Frame frame = new Frame(new ConsumerRecord<>("frames", 0, i, null, jpeg), null, System.nanoTime());
      DecodedFrame pixels = decoder.decode(jpeg, "image/jpeg", null, null);
      frame.decoded(pixels, System.nanoTime());
      preprocessor.toChw(pixels.rgb(), 224, 224, tensor);
      items.add(frame);
    }
    tensor.flip();
    frames = new Batch<>(new Shape(224, 224), items, 0, 0);
  }

  /**
   * A batch policy that takes the whole {@code batch}, in runs of {@code run} frames (the defaults'
   * 16 frames a batch split a larger one into runs of 16 in {@code worker}, and in it alone).
   */
  private Map<String, String> batchSettings() {
    Map<String, String> settings = new HashMap<>();
    settings.put(ConfigKeys.BATCH_MAX_SIZE, String.valueOf(batch));
    settings.put(ConfigKeys.BATCH_MAX_PIXELS, String.valueOf(batch * 224L * 224));
    if (run > 0) {
      settings.put(ConfigKeys.BATCH_RUN_MAX_PIXELS, String.valueOf(run * 224L * 224));
    }
    return settings;
  }

  /** Reads the timers once, as the measurement begins: the warm-up's batches are left out of the split. */
  @Setup(Level.Iteration)
  public void iteration(IterationParams params) {
    if (measuredFrom == null && params.getType() == IterationType.MEASUREMENT) {
      measuredFrom = ModelTime.of(metrics.registry());
    }
  }

  @Benchmark
  public List<Outcome> worker() {
    return runner.run(frames);
  }

  /** The batch's runs as {@code worker} makes them, each on its frames' part of the tensor. */
  @Benchmark
  public void model(Blackhole hole) {
    int floatsPerImage = Preprocessor.floatsPerImage(224, 224);
    for (int from = 0; from < batch; from += runSize) {
      FloatBuffer runFrames = tensor.duplicate();
      runFrames.position(from * floatsPerImage);
      hole.consume(engine.run(runFrames, Math.min(runSize, batch - from), 224, 224));
    }
  }

  @TearDown
  public void tearDown() {
    ModelTime now = ModelTime.of(metrics.registry());
    long batches = measuredFrom == null ? 0 : now.batches() - measuredFrom.batches();
    if (batches > 0) {
      double toMsPerBatch = 1e6 * batches; // summed nanoseconds to milliseconds a batch
      System.out.printf(
          Locale.ROOT,
          "%nworker's %d measured batches, mean ms a batch: tensor %.3f, run %.3f, results %.3f%n",
          batches,
          (now.tensorNanos() - measuredFrom.tensorNanos()) / toMsPerBatch,
          (now.runNanos() - measuredFrom.runNanos()) / toMsPerBatch,
          (now.resultsNanos() - measuredFrom.resultsNanos()) / toMsPerBatch);
    }
    engine.close();
    metrics.close();
  }
}
