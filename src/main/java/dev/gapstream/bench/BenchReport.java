package dev.gapstream.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code bench} run measured, serialised as its {@code --json} output. Rates are
 * frames (images) per second, times milliseconds. Figures from different stages are comparable
 * only as ratios: they come from one run on one machine, but that machine may be shared.
 *
 * @param machine where and under what load it ran
 * @param setup the model, frames and pipeline settings every stage shared
 * @param ort (1) bare ONNX Runtime, one row per batch size
 * @param inProcess (2) decode, preprocess and infer in process, no Kafka: the fastest of {@code
 *     inProcessRounds}
 * @param inProcessRounds (2) every run, in the order they ran: one before stage 3, then one after
 *     each of stage 3's counted rounds, in a JVM as warm as theirs
 * @param pipelineWarmUp (3) the uncounted runs before the counted ones: one, and more while the JIT
 *     was still compiling (empty with {@code --quick})
 * @param pipeline (3) the pipeline over the embedded broker at saturation, CAMs on
 * @param pipelineNoCam (3) the same with {@code cam.enabled=false}
 * @param pipelineRounds (3) every counted round with CAMs on, in the order they ran: {@code
 *     pipeline} is the fastest of them, and (4)'s loads are fractions of it
 * @param naive (5) single-threaded consume, decode, infer at batch 1, produce, commit: the fastest
 *     of {@code naiveRounds}
 * @param naiveRounds (5) every run, in the order they ran (as many as stage 3's rounds)
 * @param latency (4) end-to-end latency under open-loop load, one row per load
 * @param latencyWarmUp (4) the uncounted runs that came before each of those on the same service
 *     ({@code --latency-warmup}, then any while the JIT was still compiling)
 *     (empty when there was none)
 * @param ratios the comparisons the performance targets are stated in
 * @param experiments optional A/B runs (empty unless asked for)
 * @param latencyExperiments the latency half of {@code --compare} (empty unless asked for)
 * @param loadSearch the highest load whose p99 stayed within the bound ({@code --search-runs}; null
 *     when not asked for)
 */
public record BenchReport(
    Machine machine,
    Setup setup,
    List<OrtRow> ort,
    Throughput inProcess,
    List<Throughput> inProcessRounds,
    List<Throughput> pipelineWarmUp,
    Throughput pipeline,
    Throughput pipelineNoCam,
    List<Throughput> pipelineRounds,
    Throughput naive,
    List<Throughput> naiveRounds,
    List<LatencyRow> latency,
    List<LatencyRow> latencyWarmUp,
    Ratios ratios,
    List<Experiment> experiments,
    List<LatencyExperiment> latencyExperiments,
    LoadSearch loadSearch) {

  /**
   * @param cpus processors the JVM sees
   * @param jpeg the libjpeg ImageIO decoded JPEG frames with (see {@link
   *     dev.gapstream.ingest.JpegLibrary}): builds of one JDK differ by a factor of two here
   * @param loadBefore one-minute load average when the run began (-1 where unknown)
   * @param loadAfter the same when it ended
   */
  public record Machine(
      String cpu,
      int cpus,
      String os,
      String java,
      String onnxRuntime,
      String jpeg,
      double loadBefore,
      double loadAfter) {}

  /** The workload and the pipeline settings (the effective configuration's values). */
  public record Setup(
      String model,
      String frameSource,
      String frameSize,
      int frames,
      int batchMaxSize,
      long batchMaxPixels,
      int fullBatch,
      long batchMaxDelayMs,
      int inferenceThreads,
      int inferenceConcurrency,
      int decodeThreads,
      int maxInFlight,
      int calibratedBatch,
      int calibratedRun,
      boolean quick) {}

  /**
   * Bare inference at one batch size: {@code msPerBatch} is the mean over the timed iterations;
   * {@code coresBusy} the cores the process kept busy meanwhile (NaN where the OS does not say;
   * null in JSON).
   */
  public record OrtRow(int batchSize, int iterations, double msPerBatch, double imagesPerSecond, double coresBusy) {}

  /**
   * A throughput measurement.
   *
   * @param seconds from the first frame taken to the last one finished (published and acknowledged
   *     where Kafka is involved)
   * @param meanBatchSize mean inference batch, 1 for the naive loop
   * @param cpu where the CPU went over the same time
   * @param model how fast the model ran over the same time, and how much of it
   * @param timedFromStart the run ended too soon after its warm-up for a window of its own, so it
   *     was timed from the first frame, start-up's batches included (a smoke run; a GPU or a tiny
   *     model that keeps pace with stage 3's preload; a stage 2 run whose last batches held every
   *     frame after the warm-up)
   */
  public record Throughput(
      long frames,
      double seconds,
      double framesPerSecond,
      double meanBatchSize,
      Cpu cpu,
      Model model,
      boolean timedFromStart) {

    /** A throughput timed over its steady window. */
    public Throughput(
        long frames, double seconds, double framesPerSecond, double meanBatchSize, Cpu cpu, Model model) {
      this(frames, seconds, framesPerSecond, meanBatchSize, cpu, model, false);
    }
  }

  /**
   * The model's share of a throughput, from the batch runner's inference timer (wall clock of
   * ONNX Runtime's {@code run}, outputs copied): the rate is about {@code busy × 1000 / msPerFrame}.
   * Against stage 1's time per image it says whether a stage lost throughput to a slower model or
   * to time the model stood idle.
   *
   * @param msPerFrame model time per frame (with {@code inference.concurrency} runs at once, their
   *     summed time divided by it)
   * @param busy share of the window a run was going, the same way
   * @param tensorMsPerBatch a worker's mean time filling a batch's input tensor, before the run
   * @param runMsPerBatch the mean run of a batch
   * @param resultsMsPerBatch a worker's mean time turning a batch's outputs into predictions
   * @param workersBusy share of the window the workers were on a batch at all (tensor, run and
   *     results; with {@code inference.concurrency} workers, their summed time divided by it). Near
   *     1 with a low {@code busy}, the workers' own parts, not the model, set the rate: on a GPU,
   *     more inference slots raise it
   */
  public record Model(
      double msPerFrame,
      double busy,
      double tensorMsPerBatch,
      double runMsPerBatch,
      double resultsMsPerBatch,
      double workersBusy) {}

  /**
   * End-to-end latency at a fraction of the saturation rate: from each frame's scheduled send time
   * (its record timestamp) to its prediction's publish time (the prediction's record timestamp).
   *
   * @param boundMs {@code batch.max.delay.ms} + 2 × one full batch's bare inference time
   * @param meanBatchSize the pipeline's mean inference batch over the run
   * @param cpu where the CPU went over the whole run (load generator and reader included)
   */
  public record LatencyRow(
      double loadFraction,
      double offeredFps,
      double achievedFps,
      long frames,
      double p50Ms,
      double p99Ms,
      double p999Ms,
      double maxMs,
      double boundMs,
      double meanBatchSize,
      Cpu cpu,
      Parts parts) {

    /** Whether the run's p99 kept within its bound. */
    public boolean withinBound() {
      return p99Ms <= boundMs;
    }
  }

  /**
   * Where a latency run's frames spent their time ({@link LatencyParts}); each part's own p50 and
   * p99, and its mean over the {@code slowestFrames} slowest frames (1%, by end-to-end time).
   */
  public record Parts(Part toPipeline, Part queued, Part inference, Part toPublish, int slowestFrames) {

    public List<Part> all() {
      return List.of(toPipeline, queued, inference, toPublish);
    }
  }

  public record Part(String name, double p50Ms, double p99Ms, double slowestMeanMs) {}

  /**
   * This process's CPU time over a run, by thread group, largest first (empty where the OS does not
   * say). ONNX Runtime's native pool threads carry the name of the thread that opened the session
   * ({@code java} for the main thread).
   *
   * @param coresBusy CPU seconds ÷ wall seconds: cores this process kept busy on average
   * @param gc the garbage collector's pauses over the run (see {@link GcPauses})
   */
  public record Cpu(double coresBusy, Map<String, Double> seconds, Pauses gc) {

    public Cpu {
      seconds = Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
    }

    /** Where no pauses were recorded. */
    public Cpu(double coresBusy, Map<String, Double> seconds) {
      this(coresBusy, seconds, Pauses.NONE);
    }

    /** Milliseconds of CPU, all threads together, per frame at {@code framesPerSecond}. */
    public double msPerFrame(double framesPerSecond) {
      return coresBusy * 1000 / framesPerSecond;
    }

    /** The share of the CPU time that went to thread group {@code group} (0 when it had none). */
    public double share(String group) {
      double total = seconds.values().stream().mapToDouble(Double::doubleValue).sum();
      return total > 0 ? seconds.getOrDefault(group, 0.0) / total : 0;
    }
  }

  /**
   * Stop-the-world pauses of the garbage collector in a run.
   *
   * @param count how many
   * @param totalMs their summed length
   * @param longestMs the longest one
   */
  public record Pauses(int count, long totalMs, long longestMs) {
    public static final Pauses NONE = new Pauses(0, 0, 0);
  }

  /**
   * The ratios the targets are stated in (NaN where a stage did not run; null in JSON, see
   * {@link ReportJson}).
   *
   * @param pipelineVsOrtBest pipeline ÷ bare ORT at its best batch size (target ≥ 0.85 for ResNet-18)
   * @param pipelineVsInProcess pipeline ÷ in-process (target ≥ 0.8)
   * @param pipelineVsNaive pipeline ÷ naive loop (target ≥ 2)
   * @param camCost 1 − pipeline with CAMs ÷ without (target ≤ 0.05)
   * @param p99At80VsBound p99 at 80% load ÷ its bound (target ≤ 1): {@code batch.max.delay.ms} + 2 ×
   *     stage 1's time for a full batch as configured
   * @param p99At80VsCalibratedBound the same ÷ the bound at the batch calibration chose, which is
   *     the largest batch the calibrated pipeline runs (NaN where calibration did not run or chose
   *     the full batch)
   * @param cpuAt80 the machine's CPUs 80% of saturation needs at the CPU per frame its run took
   *     (all threads: pipeline, broker, load generator); near 1, frames queue for the cores
   * @param cpuAt80AtSaturationCost the same at the CPU per frame of the saturated run, which reads
   *     frames loaded beforehand: what the open-loop traffic's own cost adds is the difference
   */
  public record Ratios(
      int ortBestBatchSize,
      double pipelineVsOrtBest,
      double pipelineVsInProcess,
      double pipelineVsNaive,
      double camCost,
      double p99At80VsBound,
      double p99At80VsCalibratedBound,
      double cpuAt80,
      double cpuAt80AtSaturationCost) {}

  /**
   * Stage 2 run twice back to back, once per setting, so a change can be judged by a ratio from one
   * run on one machine rather than by absolute figures from two.
   *
   * @param ratio variant ÷ baseline frames per second
   */
  public record Experiment(String name, String baseline, String variant, double baselineFps, double variantFps, double ratio) {}

  /**
   * Stage 4 at one offered rate (the last of {@code --loads} of the configured saturation), on
   * services as configured and with {@code --compare}'s keys set, in turns; each keeps its lower
   * p99.
   *
   * @param ratio variant ÷ baseline p99 (below 1: the variant's tail is shorter)
   */
  public record LatencyExperiment(
      String baseline,
      String variant,
      double offeredFps,
      double baselineP99Ms,
      double variantP99Ms,
      double ratio,
      List<LatencyRow> baselineRuns,
      List<LatencyRow> variantRuns) {}

  /**
   * The bisection of {@link dev.gapstream.bench.LoadSearch}: the highest load, as a fraction of
   * stage 3's saturation rate, whose run kept its p99 within {@code boundMs}.
   *
   * @param withinLoad the highest load within the bound (0 when no run was)
   * @param withinFps the same in frames per second
   * @param beyondLoad the lowest load beyond it (NaN when every run was within)
   * @param runs the counted runs, in the order they ran, on one service
   * @param warmUp that service's uncounted runs before them
   */
  public record LoadSearch(
      double boundMs,
      double withinLoad,
      double withinFps,
      double beyondLoad,
      List<LatencyRow> runs,
      List<LatencyRow> warmUp) {

    public LoadSearch {
      runs = List.copyOf(runs);
      warmUp = List.copyOf(warmUp);
    }
  }
}
