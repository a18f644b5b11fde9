package dev.gapstream.pipeline;

import dev.gapstream.batch.Batch;
import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.BatchResult;
import dev.gapstream.inference.CamExtractor;
import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.inference.Scores;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.metrics.PipelineMetrics;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a batch through the model: normalises each frame's pixels straight into one direct buffer
 * (the tensor ONNX Runtime reads, without a copy), runs the session, and turns each image's outputs
 * into a serialised prediction — top-k scores, and where the top class was seen (its class
 * activation map's peak and box). A batch larger than the policy's run size ({@link
 * BatchPolicy#runSizeFor}) goes through the model in several runs, one after another, each filling
 * one run's tensor just before it runs; the batch's predictions go to the pipeline together when
 * its last run ends. A prediction's {@code inference} time runs from the batch's first run to the
 * end of its own. A run that fails dead-letters its own frames ({@code inference-error}); the
 * other runs' frames keep their predictions. Where every run fails, the batch fails as a whole.
 *
 * <p>Thread-safe: each inference worker thread reuses its own tensor buffer, of direct memory, for
 * each run: at most a full run of the largest frames it has seen, 12 bytes a pixel — {@code
 * batch.run.max.pixels} (else {@code batch.max.pixels}) × 12 bytes, or one frame's worth where a
 * frame is larger.
 */
public final class ModelBatchRunner implements BatchRunner {

  private static final Logger LOG = LoggerFactory.getLogger(ModelBatchRunner.class);
  private static final double NANOS_PER_MILLI = 1_000_000.0;
  /** The most floats one direct buffer holds: its capacity in bytes is an int. */
  private static final long MAX_FLOATS = Integer.MAX_VALUE / Float.BYTES;

  private final InferenceEngine engine;
  private final ModelSpec spec;
  private final Preprocessor preprocessor;
  private final GapstreamConfig.Cam cam;
  private final int topK;
  private final BatchPolicy policy;
  private final PipelineMetrics metrics;
  private final PredictionTap tap;
  private final Prediction.Model model;
  private final AtomicBoolean tapFailed = new AtomicBoolean();
  private final ThreadLocal<FloatBuffer> tensors = ThreadLocal.withInitial(() -> allocate(1 << 16));

  public ModelBatchRunner(
      InferenceEngine engine,
      ModelSpec spec,
      GapstreamConfig.Cam cam,
      int topK,
      BatchPolicy policy,
      PipelineMetrics metrics,
      PredictionTap tap) {
    this.engine = engine;
    this.spec = spec;
    this.preprocessor = new Preprocessor(spec);
    this.cam = cam;
    this.topK = topK;
    this.policy = policy;
    this.metrics = metrics;
    this.tap = tap;
    this.model = new Prediction.Model(spec.name(), spec.version());
  }

  @Override
  public List<Outcome> run(Batch<Shape, Frame> batch) {
    int w = batch.key().width();
    int h = batch.key().height();
    int floatsPerImage = Preprocessor.floatsPerImage(w, h);
    int size = batch.size();
    int runSize = policy.runSizeFor(batch.key().pixels());
    // One run's tensor, filled again for each: the same memory, still in cache, run after run.
    FloatBuffer tensor = tensor(floatsPerImage, Math.min(runSize, size), runSize);
    long tensorNanos = 0;
    long inferenceNanos = 0;
    long resultsNanos = 0;
    long firstRunStart = 0;
    List<Outcome> outcomes = new ArrayList<>(size);
    RuntimeException failedRun = null;
    boolean succeeded = false;
    for (int from = 0; from < size; from += runSize) {
      int n = Math.min(runSize, size - from);
      List<Frame> frames = batch.items().subList(from, from + n);
      long fillStart = System.nanoTime();
      tensor.clear();
      for (Frame frame : frames) {
        preprocessor.toChw(frame.pixels().rgb(), w, h, tensor);
      }
      tensor.flip();
      long start = System.nanoTime();
      if (from == 0) {
        firstRunStart = start;
      }
      tensorNanos += start - fillStart;
      BatchResult result;
      try {
        result = engine.run(tensor, n, h, w);
      } catch (RuntimeException e) {
        if (n == size) {
          throw e; // the batch in one run: it failed as a whole
        }
        // The other runs' frames keep their predictions; this run's are dead-lettered.
        LOG.warn("A run of {} of a batch of {} {} frames failed: {}", n, size, batch.key(), e.toString());
        failedRun = failedRun == null ? e : failedRun;
        for (Frame frame : frames) {
          outcomes.add(Outcome.rejected(frame, RejectReason.INFERENCE_ERROR, "run of " + n + " frames failed: " + e));
        }
        continue;
      }
      long end = System.nanoTime();
      inferenceNanos += end - start;
      succeeded = true;
      outcomes.addAll(outcomes(frames, result, size, firstRunStart, end));
      resultsNanos += System.nanoTime() - end;
    }
    if (!succeeded) {
      throw failedRun; // every run failed: the batch failed as a whole
    }
    // A batch that failed records nothing: its frames are dead-lettered, its times are no batch's.
    metrics.recordInference(inferenceNanos);
    metrics.recordBatchTensor(tensorNanos);
    metrics.recordBatchResults(resultsNanos);
    return outcomes;
  }

  /** One run's frames' outcomes; {@code runEnd}: when their run finished. */
  private List<Outcome> outcomes(
      List<Frame> frames, BatchResult result, int batchSize, long firstRunStart, long runEnd) {
    List<Outcome> outcomes = new ArrayList<>(frames.size());
    for (int j = 0; j < frames.size(); j++) {
      Frame frame = frames.get(j);
      if (!result.isFinite(j)) {
        outcomes.add(Outcome.rejected(frame, RejectReason.INFERENCE_ERROR, "the model gave non-finite logits"));
      } else {
        Prediction p = prediction(frame, result, j, batchSize, firstRunStart, runEnd - firstRunStart);
        outcomes.add(Outcome.predicted(frame, PredictionJson.toBytes(p)));
      }
    }
    return outcomes;
  }

  private Prediction prediction(
      Frame frame, BatchResult result, int i, int batchSize, long inferenceStart, long inferenceNanos) {
    float[] probabilities = Scores.softmax(result.logits(), i * result.classes(), result.classes());
    List<Prediction.Score> top = new ArrayList<>(topK);
    for (Scores.Scored s : Scores.topK(probabilities, topK)) {
      top.add(new Prediction.Score(spec.label(s.index()), s.index(), round(s.score())));
    }
    var source =
        new Prediction.Source(
            frame.record().topic(), frame.record().partition(), frame.record().offset(), frame.record().timestamp());
    var latency =
        new Prediction.Latency(
            round((inferenceStart - frame.consumedAtNanos()) / NANOS_PER_MILLI),
            round(inferenceNanos / NANOS_PER_MILLI),
            (double) Math.max(0, System.currentTimeMillis() - frame.record().timestamp()));
    ClassActivationMap map =
        cam.enabled() && result.hasCams()
            ? CamExtractor.fromBatch(
                result, i, top.get(0).index(), CamExtractor.DEFAULT_THRESHOLD, spec.camCellCentre())
            : null;
    Prediction prediction =
        new Prediction(
            frame.frameId(), source, model, top, camOf(map, top.get(0)), batchSize, latency);
    try {
      tap.onPrediction(frame.pixels(), prediction, map);
    } catch (RuntimeException e) {
      // The tap (the live view) is a bystander: its failure costs no prediction. Logged once.
      if (!tapFailed.getAndSet(true)) {
        LOG.warn("The prediction tap failed; predictions go on, the tap's failures are not logged again", e);
      }
    }
    return prediction;
  }

  private Prediction.Cam camOf(ClassActivationMap map, Prediction.Score best) {
    if (map == null) {
      return null;
    }
    float[] box = map.box();
    metrics.recordCam(map.peakX(), map.peakY(), map.heatInBox());
    Prediction.Heatmap heatmap = null;
    if (cam.heatmap()) {
      var q = map.quantized();
      heatmap =
          new Prediction.Heatmap(
              q.width(), q.height(), cellShare(map.spanX(), q.width()), cellShare(map.spanY(), q.height()),
              map.cellCentre(), q.base64());
    }
    return new Prediction.Cam(
        best.label(),
        new Prediction.Point(round(map.peakX()), round(map.peakY())),
        new double[] {round(box[0]), round(box[1]), round(box[2]), round(box[3])},
        heatmap);
  }

  /**
   * This thread's tensor buffer, limited to {@code images} × {@code floatsPerImage} floats. One too
   * small is replaced by one for the next power of two of images, never more than a full run of
   * this size ({@code fullRun}): at most twice what the run needs, and at most a full run. The
   * outgrown buffer is dropped first, since direct memory is capped (by default at the heap's
   * maximum) and the JVM frees unreachable buffers when an allocation would pass the cap.
   */
  private FloatBuffer tensor(int floatsPerImage, int images, int fullRun) {
    long floats = (long) floatsPerImage * images;
    if (floats > MAX_FLOATS) {
      throw new IllegalArgumentException(
          "a run of " + images + " images of " + floatsPerImage + " floats takes more than the 2 GB"
              + " one tensor buffer holds; lower batch.run.max.pixels or batch.max.pixels (or ingest.max.pixels)");
    }
    if (tensors.get().capacity() < floats) {
      tensors.remove();
      long room = (long) floatsPerImage * Math.min(nextPowerOfTwo(images), fullRun);
      tensors.set(allocate((int) Math.min(Math.max(floats, room), MAX_FLOATS)));
    }
    FloatBuffer buffer = tensors.get();
    buffer.clear();
    buffer.limit((int) floats);
    return buffer;
  }

  private static int nextPowerOfTwo(int n) {
    return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
  }

  private static FloatBuffer allocate(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  /** A cell's share of the frame: six decimals, as 1/32 = 0.03125 takes five. */
  private static double cellShare(float span, int cells) {
    return Math.round((double) span / cells * 1e6) / 1e6;
  }

  private static double round(double v) {
    return Math.round(v * 10_000.0) / 10_000.0;
  }
}
