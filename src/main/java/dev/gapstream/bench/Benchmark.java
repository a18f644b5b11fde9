package dev.gapstream.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.gapstream.GapstreamException;
import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.bench.BenchReport.OrtRow;
import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.JpegLibrary;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.BatchCalibration;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.pipeline.ModelBatchRunner;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Runs the five stages on one workload, in one JVM, one after the other, and reports them side by
 * side with the ratios between them. The stages share the model file and the thread settings; each
 * Kafka stage gets fresh topics on one embedded broker.
 */
public final class Benchmark {

  /**
   * Replaced once, after stage 1, by the workload with its batches calibrated from stage 1's rates
   * (see {@link #calibrated}); every later stage runs that one.
   */
  private Workload workload;
  /** The batch of the frames' size calibration chose; 0 where it did not run. */
  private int calibratedBatch;
  /** The frames of that size one run took, as calibration chose; 0 where it did not choose. */
  private int calibratedRun;
  /** {@code batch.max.pixels} as configured, before calibration bounds it. */
  private final long configuredMaxPixels;
  private final BenchSettings settings;
  private final String frameSource;
  private final boolean quick;
  private final Consumer<String> progress;

  /**
   * The JIT counts as settled when its compiler threads take at most this share of the process's
   * CPU over a run (in the runs after it settled, 0-3%; while it compiled, 10-21%).
   */
  static final double JIT_QUIET = 0.05;

  /** The {@code /proc/cpuinfo} flags that say which of ONNX Runtime's CPU kernels can run. */
  private static final List<String> VECTOR_EXTENSIONS =
      List.of("avx", "avx2", "fma", "avx_vnni", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile");

  public Benchmark(
      Workload workload, BenchSettings settings, String frameSource, boolean quick, Consumer<String> progress) {
    this.workload = workload;
    this.configuredMaxPixels = workload.config().batch().maxPixels();
    this.settings = settings;
    this.frameSource = frameSource;
    this.quick = quick;
    this.progress = progress;
  }

  public BenchReport run() throws InterruptedException {
    double loadBefore = loadAverage();
    List<OrtRow> ort;
    Throughput inProcess;
    Throughput naive;
    Throughput pipeline;
    Throughput pipelineNoCam;
    List<LatencyRow> latency = new ArrayList<>();
    List<LatencyRow> latencyWarmUp = new ArrayList<>();
    List<Throughput> pipelineWarmUp = new ArrayList<>();
    List<Throughput> pipelineRounds = new ArrayList<>();
    List<Throughput> inProcessRounds = new ArrayList<>();
    List<Throughput> naiveRounds = new ArrayList<>();
    List<BenchReport.Experiment> experiments = new ArrayList<>();
    List<BenchReport.LatencyExperiment> latencyExperiments = new ArrayList<>();
    BenchReport.LoadSearch loadSearch = null;
    List<DecodedFrame> decoded = decodeSample();
    // A full batch as configured: its time sets the latency bound, for a calibrated pipeline too,
    // whose batches may close smaller (the bound is the configuration's, not the pipeline's choice).
    int fullBatch = fullBatch(decoded.get(0));
    GapstreamConfig config = workload.config();
    try (InferenceEngine engine = workload.openEngine();
        GapstreamMetrics runnerMetrics = GapstreamMetrics.create()) {
      List<Integer> ortSizes = ortSizes(fullBatch);
      progress.accept("(1) bare ONNX Runtime at batch sizes " + ortSizes);
      ort = new OrtStage(engine, decoded, config.inference().concurrency())
          .run(ortSizes, settings.ortDuration(), settings.ortMinIterations(), settings.rounds());
      workload = calibrated(ort, decoded.get(0));
      if (sameBatches(workload.config(), variant(), (long) decoded.get(0).width() * decoded.get(0).height())) {
        progress.accept("warning: --compare " + variantName() + " runs the same batches of these frames as the"
            + " configuration: batch.max.size and batch.max.pixels bound both alike");
      }
      ModelBatchRunner runner = workload.runner(engine, runnerMetrics);
      inProcess = inProcess(runner, runnerMetrics, "before stage 3");
      inProcessRounds.add(inProcess);
      if (settings.compareSpinWait()) {
        experiments.add(spinWait(inProcess, runner, runnerMetrics));
      }
      try (BenchKafka kafka = new BenchKafka(config.kafka().embedded().partitions())) {
        PipelineStage stage = new PipelineStage(kafka, workload);
        // Each run starts a fresh service, in a JVM still compiling the Kafka client and broker
        // code: without uncounted runs first, each round was faster than the one before (62, 68,
        // 72 fps in one ResNet-18 run), so stage 3 counts once the JIT has settled. Running the
        // two variants in turns (with, without, with, without) and keeping each one's best keeps
        // what warm-up remains, and drifts in machine load, out of the comparison.
        if (!quick) {
          pipelineWarmUp.addAll(warmUpPipeline(stage));
        }
        pipeline = null;
        pipelineNoCam = null;
        for (int round = 1; round <= settings.rounds(); round++) {
          Throughput withCam = saturation(stage, true, round);
          pipelineRounds.add(withCam);
          pipeline = faster(pipeline, withCam);
          pipelineNoCam = faster(pipelineNoCam, saturation(stage, false, round));
          // Stage 2 again, as warm as stage 3's rounds are: its first run came before the JIT had
          // compiled what stage 3's warm-up compiles, and both sides of a ratio get their best.
          Throughput again = inProcess(runner, runnerMetrics, "after stage 3's round " + round);
          inProcessRounds.add(again);
          inProcess = faster(inProcess, again);
        }
        // Rounded once here, as every report of it is: the search compares and reports this value.
        double bound = Stats.round(config.batch().maxDelayMs() + 2 * batchMs(ort, fullBatch));
        if (!settings.compare().isEmpty()) {
          experiments.add(compare(stage));
          latencyExperiments.add(compareLatency(stage, pipeline, bound));
        }
        // Open-loop traffic sends many small produce and fetch requests, Kafka code the saturation
        // runs hardly touched; the JIT compiles it only as that traffic flows, for about a minute
        // (C2 took 19% of the cores through a first 20-second run at 80%, and the pipeline fell
        // behind; after a first minute, none). And a fresh service starts behind: its first frames
        // pay for its clients' first requests and ONNX Runtime's first runs at each batch size.
        // So each load has its own service, and its first run, like stage 3's, is not counted.
        for (double load : settings.loadsAt(pipeline.framesPerSecond())) {
          try (PipelineStage.LatencyService service = stage.latencyService(load)) {
            latencyWarmUp.addAll(warmUp(service, load, pipeline, bound, ""));
            latency.add(latency(service, load, pipeline, bound, settings.latencyDuration(), "counted"));
          }
        }
        if (settings.searchRuns() > 0) {
          loadSearch = searchLoad(stage, pipeline, bound);
        }
        naive = null;
        for (int round = 1; round <= settings.rounds(); round++) {
          progress.accept("(5) naive single-threaded loop, round " + round);
          Throughput t = rate(naive(kafka));
          naiveRounds.add(t);
          naive = faster(naive, t);
        }
      }
    }
    return new BenchReport(
        machine(loadBefore),
        setup(config, decoded.get(0), fullBatch),
        ort,
        inProcess,
        inProcessRounds,
        pipelineWarmUp,
        pipeline,
        pipelineNoCam,
        pipelineRounds,
        naive,
        naiveRounds,
        latency,
        latencyWarmUp,
        ratios(ort, inProcess, pipeline, pipelineNoCam, naive, latency, fullBatch),
        experiments,
        latencyExperiments,
        loadSearch);
  }

  /**
   * Stage 3's uncounted runs, with CAMs and without in turns as the counted rounds run: one, then
   * more until the JIT compilers took at most {@code JIT_QUIET} of the process's CPU in each of
   * the last two (one quiet run was followed by 11-13% again), for at most {@code --jit-settle}.
   * On two cores C2 compiling the broker's, the Kafka clients' and Vert.x's code took 12-17% of the
   * CPU through the first minutes, and each round was faster than the one before; a rate taken
   * then is a rate of a pipeline on fewer cores, and so is 80% of it.
   */
  private List<Throughput> warmUpPipeline(PipelineStage stage) throws InterruptedException {
    List<Throughput> runs = new ArrayList<>();
    long deadline = System.nanoTime() + settings.jitSettle().toNanos();
    do {
      boolean cam = runs.size() % 2 == 0;
      progress.accept("(3) pipeline warm-up run " + (runs.size() + 1) + ", cam.enabled=" + cam + ", not counted");
      runs.add(rate(stage.saturation(cam, settings.warmup(), settings.timeout())));
    } while (!settled(runs) && System.nanoTime() < deadline);
    return runs;
  }

  /** Whether the last two of these runs each had the JIT compilers at most {@link #JIT_QUIET}. */
  static boolean settled(List<Throughput> runs) {
    int n = runs.size();
    return n >= 2 && !compiling(runs.get(n - 1).cpu()) && !compiling(runs.get(n - 2).cpu());
  }

  /**
   * A latency service's uncounted runs: {@code --latency-warmup} of its load, then runs of {@code
   * --latency-duration} while the JIT compilers took over {@code JIT_QUIET} of the CPU in the last,
   * for at most {@code --jit-settle}.
   */
  private List<LatencyRow> warmUp(
      PipelineStage.LatencyService service, double load, Throughput saturated, double bound, String label)
      throws InterruptedException {
    List<LatencyRow> runs = new ArrayList<>();
    if (settings.latencyWarmUp().isZero()) {
      return runs;
    }
    runs.add(latency(service, load, saturated, bound, settings.latencyWarmUp(), label + "warm-up, not counted"));
    long deadline = System.nanoTime() + settings.jitSettle().toNanos();
    while (compiling(runs.get(runs.size() - 1).cpu()) && System.nanoTime() < deadline) {
      runs.add(latency(service, load, saturated, bound, settings.latencyDuration(), label + "JIT still compiling, not counted"));
    }
    return runs;
  }

  /** Whether the JIT compiler threads took more than {@link #JIT_QUIET} of the process's CPU. */
  static boolean compiling(BenchReport.Cpu cpu) {
    return compilerShare(cpu) > JIT_QUIET;
  }

  static double compilerShare(BenchReport.Cpu cpu) {
    double total = cpu.seconds().values().stream().mapToDouble(Double::doubleValue).sum();
    double compilers =
        cpu.seconds().entrySet().stream()
            .filter(e -> e.getKey().startsWith("C1 Compiler") || e.getKey().startsWith("C2 Compiler"))
            .mapToDouble(Map.Entry::getValue)
            .sum();
    return total > 0 ? compilers / total : 0;
  }

  private Throughput saturation(PipelineStage stage, boolean cam, int round) throws InterruptedException {
    progress.accept("(3) pipeline at saturation, cam.enabled=" + cam + ", round " + round);
    return rate(stage.saturation(cam, settings.warmup(), settings.timeout()));
  }

  private LatencyRow latency(
      PipelineStage.LatencyService service, double load, Throughput saturated, double bound, Duration duration,
      String kind) throws InterruptedException {
    progress.accept(String.format(
        Locale.ROOT, "(4) latency at %.0f%% of %.1f fps for %ss, %s",
        load * 100, saturated.framesPerSecond(), duration.toMillis() / 1000.0, kind));
    LatencyRow r =
        service.run(load, saturated.framesPerSecond(), duration, settings.warmup(), bound);
    progress.accept(String.format(
        Locale.ROOT,
        "    %.1f of %.1f frames/s, p50 %.0f ms, p99 %.0f ms (bound %.0f), mean batch %.1f, %.2f cores busy (JIT %.0f%%)",
        r.achievedFps(), r.offeredFps(), r.p50Ms(), r.p99Ms(), r.boundMs(), r.meanBatchSize(), r.cpu().coresBusy(),
        100 * compilerShare(r.cpu())));
    return r;
  }

  /** Prints one run's rate on the progress stream (the report keeps only each variant's best). */
  private Throughput rate(Throughput t) {
    progress.accept(String.format(
        Locale.ROOT,
        "    %.1f frames/s, mean batch %.1f, %.2f cores busy (JIT %.0f%%); model %.2f ms/frame, busy %.0f%%;"
            + " workers busy %.0f%%",
        t.framesPerSecond(), t.meanBatchSize(), t.cpu().coresBusy(), 100 * compilerShare(t.cpu()),
        t.model().msPerFrame(), 100 * t.model().busy(), 100 * t.model().workersBusy()));
    return t;
  }

  /**
   * Stage 3 (CAMs on) with the configuration as it is and with {@code --compare}'s keys set, in
   * the order A, B, B, A, A, B (a JVM still getting faster favours neither); each keeps its best.
   */
  private BenchReport.Experiment compare(PipelineStage stage) throws InterruptedException {
    Map<String, String> variant = variant();
    String variantName = variantName();
    Throughput a = null;
    Throughput b = null;
    for (boolean isB : new boolean[] {false, true, true, false, false, true}) {
      progress.accept("(3) A/B: " + (isB ? variantName : "as configured"));
      Throughput t = rate(stage.saturation(true, isB ? variant : Map.of(), settings.warmup(), settings.timeout()));
      if (isB) {
        b = faster(b, t);
      } else {
        a = faster(a, t);
      }
    }
    return new BenchReport.Experiment(
        "pipeline", "as configured", variantName, a.framesPerSecond(), b.framesPerSecond(),
        Stats.ratio(b.framesPerSecond(), a.framesPerSecond()));
  }

  /**
   * Stage 4 at the last of {@code --loads} (80% by default) of the configured pipeline's
   * saturation, on services as configured and with {@code --compare}'s keys set, in the order A,
   * B, B, A; each service gets the usual uncounted warm-up first, and each variant keeps its lower
   * p99. The same offered rate for both: a variant that is faster at saturation is not asked to
   * carry more.
   */
  private BenchReport.LatencyExperiment compareLatency(PipelineStage stage, Throughput saturated, double bound)
      throws InterruptedException {
    Map<String, String> variant = variant();
    String variantName = variantName();
    double load = lastLoad(saturated);
    List<LatencyRow> a = new ArrayList<>();
    List<LatencyRow> b = new ArrayList<>();
    for (boolean isB : new boolean[] {false, true, true, false}) {
      String name = isB ? variantName : "as configured";
      try (PipelineStage.LatencyService service = stage.latencyService(load, isB ? variant : Map.of())) {
        warmUp(service, load, saturated, bound, "A/B, " + name + ", ");
        (isB ? b : a).add(latency(service, load, saturated, bound, settings.latencyDuration(), "A/B, " + name));
      }
    }
    double aP99 = a.stream().mapToDouble(LatencyRow::p99Ms).min().orElseThrow();
    double bP99 = b.stream().mapToDouble(LatencyRow::p99Ms).min().orElseThrow();
    return new BenchReport.LatencyExperiment(
        "as configured", variantName, Stats.round(load * saturated.framesPerSecond()), aP99, bP99,
        Stats.ratio(bP99, aP99), a, b);
  }

  /**
   * The highest load whose p99 stays within the bound, by {@link LoadSearch}'s bisection: {@code
   * --search-runs} runs on one service, after the warm-up any load's service gets (at the last of
   * {@code --loads}: a load near the ones searched, so the JIT has compiled what they run).
   */
  private BenchReport.LoadSearch searchLoad(PipelineStage stage, Throughput saturated, double bound)
      throws InterruptedException {
    double warmLoad = lastLoad(saturated);
    LoadSearch search = new LoadSearch(bound);
    try (PipelineStage.LatencyService service = stage.latencyService(warmLoad)) {
      List<LatencyRow> warm = warmUp(service, warmLoad, saturated, bound, "search, ");
      for (int i = 1; i <= settings.searchRuns(); i++) {
        search.record(latency(
            service, search.next(), saturated, bound, settings.latencyDuration(),
            "search run " + i + " of " + settings.searchRuns()));
      }
      return search.result(saturated.framesPerSecond(), warm);
    }
  }

  /**
   * The last of {@code --loads} (80% by default), or of {@code --rates}: the load the A/B and the
   * search's warm-up run at.
   */
  private double lastLoad(Throughput saturated) {
    List<Double> loads = settings.loadsAt(saturated.framesPerSecond());
    return loads.get(loads.size() - 1);
  }

  private String variantName() {
    return variant().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
  }

  private Map<String, String> variant() {
    return variant(settings.compare(), calibratedBatch > 0, configuredMaxPixels);
  }

  /**
   * Whether {@code variant} leaves batches of frames of {@code pixels} as {@code config} has them,
   * though it sets a batch bound ({@code --compare batch.max.size=64} under a {@code
   * batch.max.pixels} of 16 such frames compares nothing).
   */
  static boolean sameBatches(GapstreamConfig config, Map<String, String> variant, long pixels) {
    if (!variant.containsKey(ConfigKeys.BATCH_MAX_SIZE) && !variant.containsKey(ConfigKeys.BATCH_MAX_PIXELS)) {
      return false;
    }
    Map<String, String> properties = new HashMap<>(config.properties());
    properties.putAll(variant);
    GapstreamConfig varied = ConfigLoader.builder().set(properties).load();
    return varied.batch().policy().maxSizeFor(pixels) == config.batch().policy().maxSizeFor(pixels);
  }

  /**
   * {@code --compare}'s keys, to set over the (calibrated) configuration. A variant that sets
   * {@code batch.max.size} and not {@code batch.max.pixels} gets {@code batch.max.pixels} as
   * configured too: the bound calibration set ({@link #calibrated}) would hold its batches to the
   * calibrated size, and {@code --compare batch.max.size=64} would compare nothing (on an H200 its
   * batches stayed at 16).
   */
  static Map<String, String> variant(Map<String, String> compare, boolean calibrated, long configuredMaxPixels) {
    Map<String, String> variant = new LinkedHashMap<>(compare);
    if (calibrated
        && variant.containsKey(ConfigKeys.BATCH_MAX_SIZE)
        && !variant.containsKey(ConfigKeys.BATCH_MAX_PIXELS)) {
      variant.put(ConfigKeys.BATCH_MAX_PIXELS, String.valueOf(configuredMaxPixels));
    }
    return variant;
  }

  private static Throughput faster(Throughput best, Throughput next) {
    return best == null || next.framesPerSecond() > best.framesPerSecond() ? next : best;
  }

  /**
   * Stage 5 on a session of its own with every inference thread the pipeline has (threads ×
   * concurrency): a hand-written loop runs one batch at a time and would give it all the cores,
   * so the baseline does not pay for settings made for concurrent batches.
   */
  private Throughput naive(BenchKafka kafka) {
    GapstreamConfig config = workload.config();
    EngineOptions configured = GapstreamService.engineOptions(config);
    EngineOptions allThreads =
        configured.withIntraOpThreads(config.inference().threads() * config.inference().concurrency());
    try (InferenceEngine engine = workload.openEngine(allThreads);
        GapstreamMetrics runnerMetrics = GapstreamMetrics.create()) {
      return new NaiveStage(kafka, workload)
          .run(workload.runner(engine, runnerMetrics), runnerMetrics.registry(), settings.warmup(), settings.timeout());
    }
  }

  private Throughput inProcess(ModelBatchRunner runner, GapstreamMetrics runnerMetrics, String when)
      throws InterruptedException {
    progress.accept("(2) decode + preprocess + infer in process, " + when);
    return rate(new InProcessStage(workload, runner, runnerMetrics.registry(), settings.warmup()).run(settings.timeout()));
  }

  /**
   * Stage 2 with ONNX Runtime's spin-waiting the other way round from the configured engine, in
   * the order A (stage 2's first run), B, A, B: each keeps its best. Before, B ran once, straight
   * after A, in a JVM warmer than A's.
   */
  private BenchReport.Experiment spinWait(Throughput first, ModelBatchRunner runner, GapstreamMetrics runnerMetrics)
      throws InterruptedException {
    EngineOptions configured = GapstreamService.engineOptions(workload.config());
    boolean spin = !configured.spinWait();
    String flipped = "with ONNX Runtime spin-waiting " + (spin ? "on" : "off");
    try (InferenceEngine engine = workload.openEngine(configured.withSpinWait(spin));
        GapstreamMetrics flippedMetrics = GapstreamMetrics.create()) {
      ModelBatchRunner flippedRunner = workload.runner(engine, flippedMetrics);
      Throughput b = inProcess(flippedRunner, flippedMetrics, flipped);
      Throughput a = faster(first, inProcess(runner, runnerMetrics, "as configured, for the spin-wait comparison"));
      b = faster(b, inProcess(flippedRunner, flippedMetrics, flipped));
      return new BenchReport.Experiment(
          "ort-spin-wait", "allow_spinning=" + (spin ? 0 : 1), "allow_spinning=" + (spin ? 1 : 0),
          a.framesPerSecond(), b.framesPerSecond(), Stats.ratio(b.framesPerSecond(), a.framesPerSecond()));
    }
  }

  /**
   * With {@code batch.calibrate} (the default), what a service does at start-up, from stage 1's
   * own rates at the frames' size: the batch and the run {@link BatchCalibration#choice} chooses
   * from them bound {@code batch.max.pixels} and, where it is not configured, {@code
   * batch.run.max.pixels} for every later stage, and their services skip
   * their own calibration, so that one choice holds for the whole run.
   */
  private Workload calibrated(List<OrtRow> ort, DecodedFrame sample) {
    GapstreamConfig c = workload.config();
    if (!c.batch().calibrate()) {
      return workload;
    }
    long pixels = (long) sample.width() * sample.height();
    int largest = c.batch().policy().maxSizeFor(pixels);
    List<BatchCalibration.Point> points =
        ort.stream()
            .filter(r -> r.batchSize() <= largest)
            .map(r -> new BatchCalibration.Point(r.batchSize(), r.imagesPerSecond()))
            .toList();
    BatchCalibration.Result choice =
        BatchCalibration.choice(sample.width(), sample.height(), points, c.inference().concurrency());
    BatchPolicy policy = choice.apply(c.batch().policy());
    Map<String, String> properties = new HashMap<>(c.properties());
    properties.put(ConfigKeys.BATCH_MAX_PIXELS, String.valueOf(policy.maxPixels()));
    if (c.batch().runMaxPixels() == 0) {
      properties.put(ConfigKeys.BATCH_RUN_MAX_PIXELS, String.valueOf(policy.runPixels()));
      calibratedRun = choice.run();
    }
    properties.put(ConfigKeys.BATCH_CALIBRATE, "false");
    calibratedBatch = choice.chosen();
    progress.accept("batches close at " + calibratedBatch + " frames of " + sample.width() + "x" + sample.height()
        + (calibratedRun > 0 ? " and run " + calibratedRun + " at a time" : "")
        + " (calibrated from stage 1; batch.calibrate=false turns it off)");
    return new Workload(ConfigLoader.builder().set(properties).load(), workload.spec(), workload.frames());
  }

  /** The sizes asked for plus a full batch of the frames' size, whose time sets the latency bound. */
  private List<Integer> ortSizes(int fullBatch) {
    TreeSet<Integer> sizes = new TreeSet<>(settings.batchSizes());
    sizes.add(fullBatch);
    return List.copyOf(sizes);
  }

  /**
   * A full batch of frames of the sample's size: {@code batch.max.size}, or fewer where {@code
   * batch.max.pixels} says so.
   */
  private int fullBatch(DecodedFrame sample) {
    return workload.config().batch().policy().maxSizeFor((long) sample.width() * sample.height());
  }

  /** Stage 1's time for one batch of {@code size} frames. */
  private double batchMs(List<OrtRow> ort, int size) {
    return ort.stream().filter(r -> r.batchSize() == size).mapToDouble(OrtRow::msPerBatch).findFirst().orElseThrow();
  }

  /** A few frames decoded up front (bare inference needs tensors, not JPEGs); all of the first's shape. */
  private List<DecodedFrame> decodeSample() {
    FrameDecoder decoder = workload.decoder();
    List<DecodedFrame> sample = new ArrayList<>();
    for (EncodedFrame f : workload.frames().subList(0, Math.min(32, workload.frames().size()))) {
      DecodedFrame d = decoder.decode(f.data(), f.contentType(), null, null);
      if (sample.isEmpty() || (d.width() == sample.get(0).width() && d.height() == sample.get(0).height())) {
        sample.add(d);
      }
    }
    if (sample.isEmpty()) {
      throw new GapstreamException("no frame to benchmark");
    }
    return sample;
  }

  private BenchReport.Ratios ratios(
      List<OrtRow> ort,
      Throughput inProcess,
      Throughput pipeline,
      Throughput noCam,
      Throughput naive,
      List<LatencyRow> latency,
      int fullBatch) {
    OrtRow best = ort.stream().max((a, b) -> Double.compare(a.imagesPerSecond(), b.imagesPerSecond())).orElseThrow();
    Optional<LatencyRow> at80 = latency.stream().filter(r -> Math.abs(r.loadFraction() - 0.8) < 1e-9).findFirst();
    double p99Ratio = at80.map(r -> Stats.ratio(r.p99Ms(), r.boundMs())).orElse(Double.NaN);
    double calibratedBound =
        calibratedBatch > 0 && calibratedBatch < fullBatch
            ? Stats.round(workload.config().batch().maxDelayMs() + 2 * batchMs(ort, calibratedBatch))
            : Double.NaN;
    double p99CalibratedRatio = at80.map(r -> Stats.ratio(r.p99Ms(), calibratedBound)).orElse(Double.NaN);
    double cpuAt80 =
        at80.map(r -> cpusNeeded(r.offeredFps(), r.cpu().msPerFrame(r.achievedFps()))).orElse(Double.NaN);
    return new BenchReport.Ratios(
        best.batchSize(),
        Stats.ratio(pipeline.framesPerSecond(), best.imagesPerSecond()),
        Stats.ratio(pipeline.framesPerSecond(), inProcess.framesPerSecond()),
        Stats.ratio(pipeline.framesPerSecond(), naive.framesPerSecond()),
        Stats.round(1 - Stats.ratio(pipeline.framesPerSecond(), noCam.framesPerSecond())),
        p99Ratio,
        p99CalibratedRatio,
        cpuAt80,
        cpusNeeded(0.8 * pipeline.framesPerSecond(), pipeline.cpu().msPerFrame(pipeline.framesPerSecond())));
  }

  /** The share of this machine's CPUs {@code framesPerSecond} keep busy at {@code msPerFrame} each. */
  private static double cpusNeeded(double framesPerSecond, double msPerFrame) {
    return Stats.round(framesPerSecond * msPerFrame / 1000 / Runtime.getRuntime().availableProcessors());
  }

  /** {@code c}: the configuration as given, before calibration. */
  private BenchReport.Setup setup(GapstreamConfig c, DecodedFrame sample, int fullBatch) {
    return new BenchReport.Setup(
        c.inference().modelPath().toString(),
        frameSource,
        sample.width() + "x" + sample.height(),
        workload.frames().size(),
        c.batch().maxSize(),
        c.batch().maxPixels(),
        fullBatch,
        c.batch().maxDelayMs(),
        c.inference().threads(),
        c.inference().concurrency(),
        c.ingest().decodeThreads(),
        c.ingest().maxInFlight(),
        calibratedBatch,
        calibratedRun,
        quick);
  }

  private static BenchReport.Machine machine(double loadBefore) {
    String ortVersion;
    try {
      ortVersion = OrtEnvironment.getEnvironment().getVersion();
    } catch (RuntimeException | LinkageError e) {
      ortVersion = "unknown";
    }
    return new BenchReport.Machine(
        cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name") + " " + System.getProperty("os.arch"),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
        ortVersion,
        JpegLibrary.describe(),
        loadBefore,
        loadAverage());
  }

  private static double loadAverage() {
    return Stats.round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }

  /**
   * The CPU's model name, family and model, and the vector extensions ONNX Runtime's kernels pick
   * from (its speed follows them: figures from hosts with different ones are not comparable).
   */
  private static String cpuModel() {
    try {
      return cpuModel(Files.readAllLines(Path.of("/proc/cpuinfo")));
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * {@link #cpuModel()} from the lines of {@code /proc/cpuinfo}. Its flags are split on runs of
   * blanks: some kernels leave several spaces between two flags.
   */
  static String cpuModel(List<String> cpuinfo) {
    String name = cpuField(cpuinfo, "model name");
    String family = cpuField(cpuinfo, "cpu family");
    String model = cpuField(cpuinfo, "model");
    Set<String> flags = new HashSet<>(Arrays.asList(cpuField(cpuinfo, "flags").split("\\s+")));
    String vector = VECTOR_EXTENSIONS.stream().filter(flags::contains).collect(Collectors.joining(" "));
    return String.format(
        "%s (family %s, model %s; %s)", name, family, model, vector.isEmpty() ? "no AVX" : vector);
  }

  private static String cpuField(List<String> cpuinfo, String key) {
    return cpuinfo.stream()
        .filter(l -> l.startsWith(key) && l.contains(":") && l.substring(0, l.indexOf(':')).trim().equals(key))
        .map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst()
        .orElse("?");
  }
}
