package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.bench.BenchReport.OrtRow;
import dev.gapstream.bench.BenchReport.Throughput;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The human-readable form of a {@link BenchReport}: a table per stage, then the ratios. */
public final class ReportTable {

  /** The pipeline's inference workers' group: Linux keeps 15 characters of a thread's name. */
  private static final String INFERENCE_THREADS = "gapstream-infer";

  /** The CPUs' share at 80% past which the table says why p99 there is out of the pipeline's hands. */
  private static final double CROWDED = 0.9;

  /**
   * The workers' busy share in stage 3 past which, with runs going less than {@link #MODEL_IDLE}
   * of their time, the table says the workers' own work sets the rate, not the model: on a GPU,
   * more inference slots raise it.
   */
  private static final double WORKERS_FULL = 0.8;

  private static final double MODEL_IDLE = 0.5;

  /**
   * A latency run's model CPU per frame this far above the saturated run's, batch sizes allowed
   * for, is the machine running slower, not the pipeline. On the shared host of BENCHMARKS.md the
   * model's rate moved by up to 40% between one run's saturated rounds; open-loop runs that kept
   * their bound cost the model up to 26% more per frame than saturated.
   */
  private static final double SLOWER_MACHINE = 1.3;

  private ReportTable() {}

  public static String format(BenchReport r) {
    StringBuilder b = new StringBuilder();
    var m = r.machine();
    var s = r.setup();
    line(b, "machine: %s, %d CPUs, %s, %s, ONNX Runtime %s; load average %.2f before, %.2f after",
        m.cpu(), m.cpus(), m.os(), m.java(), m.onnxRuntime(), m.loadBefore(), m.loadAfter());
    line(b, "JPEG decoding: %s", m.jpeg());
    line(b, "model: %s", s.model());
    line(b, "frames: %d %s %s; batch.max.size=%d%s batch.max.delay.ms=%d inference.threads=%d"
            + " inference.concurrency=%d ingest.decode.threads=%d ingest.max.in.flight=%d%s",
        s.frames(), s.frameSize(), s.frameSource(), s.batchMaxSize(),
        (s.fullBatch() < s.batchMaxSize()
                ? " (batch.max.pixels=" + s.batchMaxPixels() + ": " + s.fullBatch() + " frames of this size)"
                : "")
            + (s.calibratedBatch() > 0
                ? " (calibrated: batches of " + s.calibratedBatch() + " frames of this size"
                    + (s.calibratedRun() > 0 ? ", runs of " + s.calibratedRun() : "") + ")"
                : ""),
        s.batchMaxDelayMs(),
        s.inferenceThreads(), s.inferenceConcurrency(), s.decodeThreads(), s.maxInFlight(),
        s.quick() ? " (quick: smoke test, figures meaningless)" : "");
    line(b, "");
    line(b, "%-44s %10s %10s %8s %6s", "stage", "frames/s", "ms/batch", "batch", "cores");
    for (OrtRow o : r.ort()) {
      line(b, "%-44s %10.1f %10.2f %8d %6.2f", "(1) bare ORT, batch " + o.batchSize(), o.imagesPerSecond(), o.msPerBatch(), o.batchSize(), o.coresBusy());
    }
    throughput(b, "(2) decode+preprocess+infer, in process", r.inProcess());
    if (r.inProcess().timedFromStart()) {
      line(b, "    timed from the first frame, start-up included: its run ended within two batches or %d ms of the warm-up",
          PipelineStage.MIN_WINDOW_MS);
    }
    rounds(b, r.inProcessRounds());
    throughput(b, "(3) pipeline over Kafka, saturated", r.pipeline());
    throughput(b, "(3) pipeline, cam.enabled=false", r.pipelineNoCam());
    timedFromStart(b, r.pipeline(), r.pipelineNoCam());
    rounds(b, r.pipelineRounds());
    pipelineWarmUp(b, r.pipelineWarmUp());
    throughput(b, "(5) naive loop (batch 1, sync commit)", r.naive());
    rounds(b, r.naiveRounds());
    line(b, "");
    // frames: how many each percentile rests on (with 1,000, p99.9 is the second slowest frame)
    line(b, "%-28s %9s %9s %8s %8s %8s %8s %9s %6s %7s", "(4) latency, end to end", "offered", "achieved", "p50 ms", "p99 ms",
        "p99.9 ms", "max ms", "bound ms", "batch", "frames");
    for (LatencyRow l : r.latency()) {
      latency(b, String.format(Locale.ROOT, "    at %.0f%% of saturation", l.loadFraction() * 100), l);
    }
    if (!r.latencyWarmUp().isEmpty()) {
      line(b, "    each after an uncounted run on the same service, from its start:");
    }
    for (LatencyRow l : r.latencyWarmUp()) {
      latency(b, String.format(Locale.ROOT, "    %.0f%%, not counted", l.loadFraction() * 100), l);
    }
    loadSearch(b, r.loadSearch());
    parts(b, r);
    line(b, "");
    line(b, "Model time (ONNX Runtime's run, per frame; busy: share of the time a run was going) and the inference");
    line(b, "workers' time per batch (tensor: pixels in, run, results: predictions out; busy: on a batch at all):");
    OrtRow fastest = r.ort().stream().max((x, y) -> Double.compare(x.imagesPerSecond(), y.imagesPerSecond())).orElseThrow();
    line(b, "%-22s %6.2f ms/frame (batch %d)", "(1) bare ORT, best", 1000 / fastest.imagesPerSecond(), fastest.batchSize());
    model(b, "(2) in process", r.inProcess());
    model(b, "(3) pipeline", r.pipeline());
    model(b, "(5) naive", r.naive());
    workersBound(b, r.pipeline().model());
    line(b, "");
    line(b, "CPU by thread group (ONNX Runtime's pool threads are named after the thread that opened the session):");
    cpu(b, "(2) in process", r.inProcess().cpu());
    cpu(b, "(3) pipeline", r.pipeline().cpu());
    for (LatencyRow l : r.latency()) {
      cpu(b, String.format(Locale.ROOT, "(4) at %.0f%%", l.loadFraction() * 100), l.cpu());
    }
    for (LatencyRow l : r.latencyWarmUp()) {
      cpu(b, String.format(Locale.ROOT, "(4) %.0f%%, uncounted", l.loadFraction() * 100), l.cpu());
    }
    cpu(b, "(5) naive", r.naive().cpu());
    cpuPerFrame(b, r);
    var x = r.ratios();
    line(b, "");
    line(b, "pipeline / bare ORT best (batch %d)   %6.3f   (target >= 0.85 for ResNet-18)", x.ortBestBatchSize(), x.pipelineVsOrtBest());
    line(b, "pipeline / in-process                %6.3f   (target >= 0.8)", x.pipelineVsInProcess());
    line(b, "pipeline / naive                     %6.3f   (target >= 2)", x.pipelineVsNaive());
    line(b, "CAM cost (1 - with / without)        %6.3f   (target <= 0.05)", x.camCost());
    if (Double.isNaN(x.p99At80VsBound())) {
      line(b, "p99 at 80%% / bound                   not measured: no latency run at 80%% of saturation");
    } else {
      line(b, "p99 at 80%% / bound                   %6.3f   (target <= 1)", x.p99At80VsBound());
      if (!Double.isNaN(x.p99At80VsCalibratedBound())) {
        line(b, "    / bound at the calibrated batch  %6.3f   (batches of %d, the largest this pipeline ran)",
            x.p99At80VsCalibratedBound(), r.setup().calibratedBatch());
      }
    }
    if (!Double.isNaN(x.cpuAt80())) {
      line(b, "CPUs busy at 80%% of saturation       %6.3f   (at saturation's CPU per frame: %.3f)",
          x.cpuAt80(), x.cpuAt80AtSaturationCost());
      if (x.cpuAt80() >= CROWDED) {
        line(b, "    near 1, frames queue for the CPUs, which here also run the broker and the load generator:");
        line(b, "    `gapstream load` measures a deployment from another machine");
      }
    }
    if (r.loadSearch() != null) {
      line(b, "highest load with p99 within bound   %6.3f   (of saturation; bisection, %d runs)",
          r.loadSearch().withinLoad(), r.loadSearch().runs().size());
    }
    for (BenchReport.Experiment e : r.experiments()) {
      line(b, "A/B %s: %s %.1f fps, %s %.1f fps, ratio %.3f", e.name(), e.baseline(), e.baselineFps(), e.variant(), e.variantFps(), e.ratio());
    }
    for (BenchReport.LatencyExperiment e : r.latencyExperiments()) {
      line(b, "A/B latency at %.1f fps offered: %s p99 %.0f ms, %s p99 %.0f ms (best of %d each), ratio %.3f;"
              + " cores busy %s and %s",
          e.offeredFps(), e.baseline(), e.baselineP99Ms(), e.variant(), e.variantP99Ms(), e.baselineRuns().size(), e.ratio(),
          cores(e.baselineRuns()), cores(e.variantRuns()));
    }
    return b.toString();
  }

  private static void latency(StringBuilder b, String name, LatencyRow l) {
    line(b, "%-28s %9.1f %9.1f %8.0f %8.0f %8.0f %8.0f %9.1f %6.1f %7d", name,
        l.offeredFps(), l.achievedFps(), l.p50Ms(), l.p99Ms(), l.p999Ms(), l.maxMs(), l.boundMs(), l.meanBatchSize(),
        l.frames());
  }

  /** The load search's runs in the order they ran, and what they found. */
  private static void loadSearch(StringBuilder b, BenchReport.LoadSearch search) {
    if (search == null) {
      return;
    }
    line(b, "    the highest load within the bound, by bisection on one service:");
    for (LatencyRow l : search.warmUp()) {
      latency(b, String.format(Locale.ROOT, "    %.0f%%, not counted", l.loadFraction() * 100), l);
    }
    int i = 0;
    for (LatencyRow l : search.runs()) {
      String verdict = l.withinBound() ? "within" : "beyond";
      latency(b, String.format(Locale.ROOT, "    %d: %.1f%%, %s", ++i, l.loadFraction() * 100, verdict), l);
    }
    line(b, "    within the bound up to %.1f%% of saturation (%.1f frames/s)%s",
        search.withinLoad() * 100, search.withinFps(),
        Double.isNaN(search.beyondLoad())
            ? "; no run beyond it"
            : String.format(Locale.ROOT, "; beyond it from %.1f%%", search.beyondLoad() * 100));
  }

  /** Each counted latency run's parts: what a frame's time went on, and what the slowest waited on. */
  private static void parts(StringBuilder b, BenchReport r) {
    if (r.latency().stream().allMatch(l -> l.parts() == null)) {
      return;
    }
    line(b, "");
    line(b, "%-36s %8s %8s %12s", "(4) where a frame's time went, ms", "p50", "p99", "slowest 1%");
    for (LatencyRow l : r.latency()) {
      if (l.parts() == null) {
        continue;
      }
      String load = String.format(Locale.ROOT, "at %.0f%%:", l.loadFraction() * 100);
      for (BenchReport.Part p : l.parts().all()) {
        line(b, "    %-8s %-23s %8.1f %8.1f %12.1f", load, p.name(), p.p50Ms(), p.p99Ms(), p.slowestMeanMs());
        load = "";
      }
    }
  }

  /**
   * A stage's counted rounds (stage 3's with CAMs on), when there was more than one: the fastest
   * counts (for stage 3, the saturation (4)'s loads are fractions of), and on a shared machine the
   * rounds spread.
   */
  private static void rounds(StringBuilder b, List<Throughput> rounds) {
    if (rounds.size() < 2) {
      return;
    }
    double[] fps = rounds.stream().mapToDouble(Throughput::framesPerSecond).toArray();
    double[] sorted = fps.clone();
    Arrays.sort(sorted);
    double median =
        sorted.length % 2 == 1
            ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    line(b, "    its rounds: %s frames/s; the fastest counts (the median is %.0f%% of it)",
        Arrays.stream(fps).mapToObj(f -> String.format(Locale.ROOT, "%.1f", f)).collect(Collectors.joining(", ")),
        100 * median / sorted[sorted.length - 1]);
  }

  /** A note under stage 3's rows when one of them could not be timed apart from its start. */
  private static void timedFromStart(StringBuilder b, Throughput withCams, Throughput withoutCams) {
    String which =
        withCams.timedFromStart()
            ? (withoutCams.timedFromStart() ? "both rows" : "the first row")
            : (withoutCams.timedFromStart() ? "the second row" : null);
    if (which != null) {
      line(b, "    %s timed from the first frame written, start-up included: its run ended under %d ms after the warm-up",
          which, PipelineStage.MIN_WINDOW_MS);
    }
  }

  /** Stage 3's uncounted runs in one line: how many, their rates, the JIT's share first and last. */
  private static void pipelineWarmUp(StringBuilder b, List<Throughput> runs) {
    if (runs.isEmpty()) {
      return;
    }
    var fps = runs.stream().mapToDouble(Throughput::framesPerSecond).summaryStatistics();
    line(b, "    before them, not counted: %d run%s, %.0f-%.0f frames/s, JIT %.0f%% of the CPU in the first, %.0f%% in the last",
        runs.size(), runs.size() == 1 ? "" : "s", fps.getMin(), fps.getMax(),
        100 * Benchmark.compilerShare(runs.get(0).cpu()), 100 * Benchmark.compilerShare(runs.get(runs.size() - 1).cpu()));
  }

  /**
   * CPU per frame of the pipeline's runs, split into the model's threads and everything else
   * (decoding, Kafka clients, the broker, the load generator): open-loop traffic costs more per
   * frame than a topic loaded beforehand, and on a machine that also runs the broker that is what
   * decides how near saturation latency holds.
   */
  private static void cpuPerFrame(StringBuilder b, BenchReport r) {
    if (Double.isNaN(r.pipeline().cpu().coresBusy())) {
      return;
    }
    // One intra-op thread runs on the inference worker itself; more run in ONNX Runtime's pool,
    // whose threads carry the name of the thread that opened the session, not the worker's.
    boolean split = r.setup().inferenceThreads() == 1;
    line(b, "");
    line(b, "CPU per frame, ms (all threads: pipeline, broker, load generator)");
    cpuPerFrame(b, "(3) pipeline", r.pipeline().cpu(), r.pipeline().framesPerSecond(), split);
    for (LatencyRow l : r.latency()) {
      cpuPerFrame(b, String.format(Locale.ROOT, "(4) at %.0f%%", l.loadFraction() * 100), l.cpu(), l.achievedFps(), split);
    }
    if (split && !r.setup().quick()) { // a smoke run's second-long runs say nothing of the machine
      for (LatencyRow l : r.latency()) {
        slowerMachine(b, r, l);
      }
    }
  }

  /**
   * Says so where a latency run's model took much more CPU per frame than the saturated run's,
   * more than the difference in their batch sizes costs bare ONNX Runtime in stage 1: the same
   * work took longer, so the machine itself ran slower then (on a shared host, other tenants on
   * its cores), and that run's figures are the machine's as much as the pipeline's.
   */
  private static void slowerMachine(StringBuilder b, BenchReport r, LatencyRow l) {
    double saturated = modelMsPerFrame(r.pipeline().cpu(), r.pipeline().framesPerSecond());
    double run = modelMsPerFrame(l.cpu(), l.achievedFps());
    if (!(saturated > 0 && Double.isFinite(saturated) && run > 0 && Double.isFinite(run))) {
      return; // no model threads seen, or a run with no frames back
    }
    double byBatch =
        ortCpuPerFrame(r.ort(), l.meanBatchSize()) / ortCpuPerFrame(r.ort(), r.pipeline().meanBatchSize());
    double slowdown = run / saturated / byBatch;
    if (!(slowdown >= SLOWER_MACHINE)) {
      return; // NaN too: no stage 1 to weigh the batches by
    }
    line(b, "    at %.0f%% the model took %.0f%% more CPU a frame than in (3); its batches (%.1f against %.1f)"
            + " explain %+.0f%% by (1):",
        l.loadFraction() * 100, (run / saturated - 1) * 100, l.meanBatchSize(), r.pipeline().meanBatchSize(),
        (byBatch - 1) * 100);
    line(b, "    the machine itself ran slower in that run (on a shared host: other tenants on its cores),"
        + " and its figures with it");
  }

  /**
   * Bare ONNX Runtime's CPU per frame at a batch of {@code batch}, in ms: stage 1's, interpolated
   * between the sizes measured on a log scale, the nearest outside them; NaN without stage 1.
   */
  static double ortCpuPerFrame(List<OrtRow> ort, double batch) {
    List<OrtRow> rows =
        ort.stream()
            .filter(o -> o.imagesPerSecond() > 0 && o.coresBusy() > 0)
            .sorted(Comparator.comparingInt(OrtRow::batchSize))
            .toList();
    if (rows.isEmpty()) {
      return Double.NaN;
    }
    OrtRow below = rows.get(0);
    for (OrtRow above : rows) {
      if (above.batchSize() >= batch) {
        if (above == below || above.batchSize() == batch) {
          return ortMsPerFrame(above);
        }
        double t = Math.log(batch / below.batchSize()) / Math.log((double) above.batchSize() / below.batchSize());
        return ortMsPerFrame(below) + t * (ortMsPerFrame(above) - ortMsPerFrame(below));
      }
      below = above;
    }
    return ortMsPerFrame(below);
  }

  private static double ortMsPerFrame(OrtRow o) {
    return o.coresBusy() * 1000 / o.imagesPerSecond();
  }

  private static void cpuPerFrame(StringBuilder b, String name, BenchReport.Cpu cpu, double fps, boolean split) {
    double ms = cpu.msPerFrame(fps);
    if (!split) {
      line(b, "%-22s %6.2f", name, ms);
      return;
    }
    double model = modelMsPerFrame(cpu, fps);
    line(b, "%-22s %6.2f   model %.2f, the rest %.2f", name, ms, model, ms - model);
  }

  /** The model's workers' CPU per frame, in ms (with one intra-op thread, all of the model's). */
  private static double modelMsPerFrame(BenchReport.Cpu cpu, double fps) {
    return cpu.msPerFrame(fps) * cpu.share(INFERENCE_THREADS);
  }

  /** Milliseconds with two decimals, or "-" where nothing was timed. */
  private static String ms(double ms) {
    return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.2f", ms);
  }

  private static String cores(List<LatencyRow> runs) {
    return runs.stream()
        .map(l -> String.format(Locale.ROOT, "%.2f", l.cpu().coresBusy()))
        .collect(Collectors.joining("/"));
  }

  private static void throughput(StringBuilder b, String name, Throughput t) {
    line(b, "%-44s %10.1f %10s %8.1f %6.2f", name, t.framesPerSecond(), "", t.meanBatchSize(), t.cpu().coresBusy());
  }

  private static void model(StringBuilder b, String name, Throughput t) {
    BenchReport.Model m = t.model();
    line(b, "%-22s %6.2f ms/frame, busy %3.0f%%;  workers: tensor %s + run %s + results %s ms a batch, busy %3.0f%%",
        name, m.msPerFrame(), 100 * m.busy(), ms(m.tensorMsPerBatch()), ms(m.runMsPerBatch()), ms(m.resultsMsPerBatch()),
        100 * m.workersBusy());
  }

  /** A line when stage 3's workers were nearly always on a batch and the runs were not. */
  private static void workersBound(StringBuilder b, BenchReport.Model m) {
    if (m.workersBusy() >= WORKERS_FULL && m.busy() < MODEL_IDLE) {
      line(b, "    (3)'s workers were on a batch %.0f%% of the time and in the run %.0f%%: their own work, %.2f ms a batch",
          100 * m.workersBusy(), 100 * m.busy(), m.tensorMsPerBatch() + m.resultsMsPerBatch());
      line(b, "    against the run's %.2f, set the rate, not the model; more inference slots (inference.concurrency) raise it",
          m.runMsPerBatch());
    }
  }

  /**
   * Where a run's CPU went: cores busy on average, then the largest thread groups' shares; then
   * the collector's pauses, when there were any.
   */
  private static void cpu(StringBuilder b, String name, BenchReport.Cpu cpu) {
    if (cpu.seconds().isEmpty()) {
      return;
    }
    double total = cpu.seconds().values().stream().mapToDouble(Double::doubleValue).sum();
    StringBuilder groups = new StringBuilder();
    cpu.seconds().entrySet().stream()
        .limit(6)
        .forEach(e -> groups.append(String.format(Locale.ROOT, ", %s %.0f%%", e.getKey(), 100 * e.getValue() / total)));
    line(b, "%-22s %4.2f cores%s", name, cpu.coresBusy(), groups);
    BenchReport.Pauses gc = cpu.gc();
    if (gc.count() > 0) {
      String times = gc.count() == 1 ? "once" : gc.count() + " times";
      line(b, "%-22s GC paused %s, %d ms in all, the longest %d ms", "", times, gc.totalMs(), gc.longestMs());
    }
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
