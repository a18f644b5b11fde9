package dev.gapstream.cli;

import dev.gapstream.bench.BenchReport;
import dev.gapstream.bench.BenchSettings;
import dev.gapstream.bench.Benchmark;
import dev.gapstream.bench.EncodedFrame;
import dev.gapstream.bench.ReferenceModels;
import dev.gapstream.bench.ReportJson;
import dev.gapstream.bench.ReportTable;
import dev.gapstream.bench.Workload;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.pipeline.GapstreamService;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: measures, in one run on one machine, bare inference, in-process decode and
 * inference, the pipeline over an embedded broker at saturation (with and without CAMs), its
 * latency under open-loop load, and a naive single-threaded loop; prints them side by side with
 * the ratios between them. See BENCHMARKS.md.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark the pipeline against bare ONNX Runtime, in-process decoding and inference, and a"
          + " naive loop, in one run; print a table and ratios (or JSON with --json)."
    })
public final class BenchCommand implements Callable<Integer> {

  @Option(names = "--model", paramLabel = "PATH|NAME",
      description = "ONNX model, or a reference model exported on first use: "
          + "resnet18, mobilenet_v2, squeezenet1_1 (default: inference.model.path, the shipped model).")
  String model;

  @Mixin FrameSourceOptions frameSource;

  @Option(names = "--frames", description = "Frames per throughput stage (default: 400; quick: 24).")
  Integer frames;

  @Option(names = "--threads", description = "inference.threads: ONNX Runtime intra-op threads.")
  Integer threads;

  @Option(names = "--decode-threads", description = "ingest.decode.threads.")
  Integer decodeThreads;

  @Option(names = "--batch-sizes", split = ",", description = "Bare-inference batch sizes (default: 1,2,4,8,16,32; quick: 1,2,4).")
  List<Integer> batchSizes;

  @Option(names = "--duration", description = "Timed run per bare-inference batch size and round (default: PT2S; quick: PT0.2S).")
  Duration duration;

  @Option(names = "--latency-duration", description = "Offered-load time per counted latency run (default: PT20S; quick: PT1S).")
  Duration latencyDuration;

  @Option(
      names = "--latency-warmup",
      description = "Offered-load time of the uncounted run each load starts with, on the same service:"
          + " the JIT compiles the Kafka code open-loop traffic runs only as it flows (default: PT60S; quick: none).")
  Duration latencyWarmUp;

  @Option(
      names = "--jit-settle",
      description = "Go on with uncounted runs, for at most this long, until the JIT compilers took at"
          + " most 5%% of the process's CPU: in two stage-3 runs in a row before stage 3 counts, and in"
          + " the last run after each load's --latency-warmup. Figures taken while C2 still compiles"
          + " the Kafka and Vert.x code are figures of a JVM on fewer cores (default: PT3M; quick: none).")
  Duration jitSettle;

  @Option(names = "--loads", split = ",", paramLabel = "FRACTION",
      description = "Latency runs, as fractions of the saturation rate, in order (default: 0.5,0.8);"
          + " each on its own service, after --latency-warmup of the same load uncounted.")
  List<Double> loads;

  @Option(names = "--rates", split = ",", paramLabel = "FPS",
      description = "Latency runs at these offered rates, in frames per second, instead of --loads:"
          + " the same load for every run and every build whatever its saturation round measured"
          + " (which moves by a third from run to run on a noisy machine), or the load your cameras"
          + " send. Each is reported as its fraction of the saturation rate.")
  List<Double> rates;

  @Option(names = "--search-runs", paramLabel = "N",
      description = "Then search for the highest load whose p99 stays within the bound: N latency runs"
          + " of --latency-duration on one service (after --latency-warmup at the last of --loads or --rates),"
          + " each at the middle of the highest load found within and the lowest found beyond, at"
          + " first none and the saturation rate (default: 5; quick: 0; 0: no search).")
  Integer searchRuns;

  @Option(names = "--rounds",
      description = "Measurements per stage-1 batch size and per stage-3 variant, taken in turns,"
          + " each followed by one of stage 2; and runs of stage 5. Each keeps its best (default: 3; quick: 1).")
  Integer rounds;

  @Option(names = "--timeout", defaultValue = "PT15M", description = "Fail a stage that runs longer (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--quick", description = "Smoke mode: few frames, short runs; the figures mean nothing.")
  boolean quick;

  @Option(names = "--compare-spin-wait", description = "Also run stage 2 with ONNX Runtime's spin-waiting flipped, and report the ratio.")
  boolean compareSpinWait;

  @Option(
      names = "--compare",
      paramLabel = "KEY=VALUE",
      description = "Also run stage 3 in turns as configured and with these keys set (repeatable),"
          + " and stage 4 at the last of --loads of the configured saturation (or of --rates) the same way (each service after"
          + " --latency-warmup), and report the ratios, e.g. --compare inference.threads=1"
          + " --compare inference.concurrency=2."
          + " The keys replace values of the effective configuration: a derived default"
          + " (inference.threads from inference.concurrency) is not derived again, so set both;"
          + " a batch.max.size without batch.max.pixels gets batch.max.pixels as configured, not"
          + " as calibration bounded it.")
  Map<String, String> compare = new LinkedHashMap<>();

  @Option(names = "--json", description = "Print the report as one JSON object on stdout instead of a table.")
  boolean json;

  @Mixin ConfigOptions config;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (loads != null && rates != null) {
      throw new ParameterException(spec.commandLine(), "--loads and --rates both set the latency runs' loads: give one");
    }
    if (frames != null && frames < 1) {
      throw new ParameterException(spec.commandLine(), "--frames: at least 1, got " + frames);
    }
    GapstreamConfig cfg = config.load(overrides());
    if (!compare.isEmpty()) {
      // A bad key or value fails here, naming it, not minutes in.
      Map<String, String> variant = new HashMap<>(cfg.properties());
      variant.putAll(compare);
      ConfigLoader.builder().set(variant).load();
    }
    ModelSpec modelSpec = ModelSpec.load(cfg.inference().modelPath());
    BenchSettings settings;
    try {
      settings =
          new BenchSettings(
              batchSizes != null ? batchSizes : quick ? List.of(1, 2, 4) : List.of(1, 2, 4, 8, 16, 32),
              duration != null ? duration : quick ? Duration.ofMillis(200) : Duration.ofSeconds(2),
              quick ? 2 : 5,
              latencyDuration != null ? latencyDuration : quick ? Duration.ofSeconds(1) : Duration.ofSeconds(20),
              latencyWarmUp != null ? latencyWarmUp : quick ? Duration.ZERO : Duration.ofSeconds(60),
              jitSettle != null ? jitSettle : quick ? Duration.ZERO : Duration.ofMinutes(3),
              loads != null ? loads : List.of(0.5, 0.8),
              rates != null ? rates : List.of(),
              0.1,
              timeout,
              rounds != null ? rounds : quick ? 1 : 3,
              compareSpinWait,
              compare,
              searchRuns != null ? searchRuns : quick ? 0 : 5);
    } catch (IllegalArgumentException e) {
      // A usage error, exit 2 as picocli's own: "--rounds must be at least 1, was 0".
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    // After the settings' checks: encoding up to 64 large frames took a while before a bad value
    // was refused.
    int count = frames != null ? frames : quick ? 24 : 400;
    List<EncodedFrame> encoded = frameSource.frames(count);
    String source = frameSource.describe(GapstreamService.decodeLimits(cfg, modelSpec).maxSide());
    PrintWriter err = spec.commandLine().getErr();
    BenchReport report =
        new Benchmark(new Workload(cfg, modelSpec, encoded), settings, source, quick, line -> {
          err.println("bench: " + line);
          err.flush();
        }).run();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      err.print(ReportTable.format(report));
      err.flush();
    }
    out.print(json ? ReportJson.format(report) + "\n" : ReportTable.format(report));
    out.flush();
    return 0;
  }

  /** Command defaults below --set: the options given here, and an embedded broker. */
  private Map<String, String> overrides() {
    Map<String, String> o = new HashMap<>();
    o.put(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS, "");
    if (model != null) {
      String path = ReferenceModels.NAMES.contains(model) ? ReferenceModels.ensure(model).toString() : model;
      o.put(ConfigKeys.INFERENCE_MODEL_PATH, path);
    }
    if (threads != null) {
      o.put(ConfigKeys.INFERENCE_THREADS, threads.toString());
    }
    if (decodeThreads != null) {
      o.put(ConfigKeys.INGEST_DECODE_THREADS, decodeThreads.toString());
    }
    return o;
  }
}
