package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gapstream.bench.BenchReport.Cpu;
import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.bench.BenchReport.Model;
import dev.gapstream.bench.BenchReport.Part;
import dev.gapstream.bench.BenchReport.Parts;
import dev.gapstream.bench.BenchReport.Throughput;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ReportTableTest {

  private static final BenchReport.Machine MACHINE =
      new BenchReport.Machine(
          "AMD EPYC", 2, "Linux amd64", "OpenJDK 17", "1.28.0", "libjpeg-turbo 2.1.5 (/usr/lib/libjpeg.so.62)", 1.0, 2.0);

  private static final Cpu CPU =
      new Cpu(1.9, Map.of("gapstream-infer", 1.5, "C2 CompilerThre", 0.1, "GC Thread", 0.3), new BenchReport.Pauses(14, 230, 41));
  private static final Model MODEL = new Model(1.5, 0.93, 1.2, 24.0, 0.6, 0.97);
  private static final Parts PARTS =
      new Parts(
          new Part("to the pipeline", 7.5, 17.3, 10.5),
          new Part("decode, batch, wait", 10.6, 27.3, 29.5),
          new Part("inference", 13.5, 53.4, 67.4),
          new Part("to publish", 1, 7, 0.6),
          64);

  @Test
  void showsTheUncountedRunsTheWhereTheTimeWentAndTheLatencyAb() {
    Throughput pipeline = new Throughput(1800, 3, 600, 15.9, CPU, MODEL);
    List<Throughput> warmUp =
        List.of(
            new Throughput(1800, 4, 450, 15.6, new Cpu(1.9, Map.of("gapstream-infer", 1.5, "C2 CompilerThre", 0.4)), MODEL),
            new Throughput(1800, 3, 590, 15.9, new Cpu(1.9, Map.of("gapstream-infer", 1.84, "C2 CompilerThre", 0.06)), MODEL));
    LatencyRow at80 = new LatencyRow(0.8, 480, 479.5, 6400, 41, 89, 115, 132, 89.06, 7.3, CPU, PARTS);
    LatencyRow other = new LatencyRow(0.8, 480, 479.9, 6400, 35, 72, 90, 101, 89.06, 6.4, new Cpu(1.57, Map.of()), PARTS);
    BenchReport report =
        new BenchReport(
            MACHINE,
            new BenchReport.Setup("model.onnx", "synthetic jpeg", "224x224", 2000, 16, 4_194_304, 16, 10, 1, 2, 2, 256, 8, 2, false),
            List.of(new BenchReport.OrtRow(16, 40, 35.8, 894.8, 1.98)),
            new Throughput(1800, 4, 470, 16.2, CPU, MODEL),
            List.of(new Throughput(1800, 4, 450, 16.2, CPU, MODEL), new Throughput(1800, 4, 470, 16.2, CPU, MODEL)),
            warmUp,
            pipeline,
            pipeline,
            List.of(new Throughput(1800, 3.3, 545.5, 15.9, CPU, MODEL), pipeline, new Throughput(1800, 3.1, 580, 15.9, CPU, MODEL)),
            new Throughput(180, 2, 95, 1, new Cpu(0.6, Map.of("java", 1.0), new BenchReport.Pauses(1, 12, 12)), MODEL),
            List.of(new Throughput(180, 2, 95, 1, CPU, MODEL), new Throughput(180, 2, 90, 1, CPU, MODEL)),
            List.of(at80),
            List.of(at80),
            new BenchReport.Ratios(16, 0.67, 1.33, 6.3, 0, 1.0, 1.9, 0.95, 0.76),
            List.of(),
            List.of(new BenchReport.LatencyExperiment("as configured", "ingest.decode.threads=1", 480, 72, 89, 1.236, List.of(other, at80), List.of(at80, at80))),
            null);

    String table = ReportTable.format(report);

    assertThat(table)
        .contains("JPEG decoding: libjpeg-turbo 2.1.5 (/usr/lib/libjpeg.so.62)\n")
        .contains("batch.max.size=16 (calibrated: batches of 8 frames of this size, runs of 2) batch.max.delay.ms=10")
        .contains("(3) pipeline             1.50 ms/frame, busy  93%;  workers: tensor 1.20 + run 24.00 + results 0.60 ms a batch,"
            + " busy  97%\n")
        .contains("(2) decode+preprocess+infer, in process           470.0                16.2   1.90\n"
            + "    its rounds: 450.0, 470.0 frames/s; the fastest counts (the median is 98% of it)\n")
        .contains("(5) naive loop (batch 1, sync commit)              95.0                 1.0   0.60\n"
            + "    its rounds: 95.0, 90.0 frames/s; the fastest counts (the median is 97% of it)\n")
        .contains("p99 at 80% / bound                    1.000   (target <= 1)\n"
            + "    / bound at the calibrated batch   1.900   (batches of 8, the largest this pipeline ran)\n")
        .contains("    its rounds: 545.5, 600.0, 580.0 frames/s; the fastest counts (the median is 97% of it)\n"
            + "    before them, not counted: 2 runs, 450-590 frames/s, JIT 21% of the CPU in the first, 3% in the last\n")
        .contains("    at 80%:  to the pipeline              7.5     17.3         10.5\n")
        .contains("             inference                   13.5     53.4         67.4\n")
        .contains("A/B latency at 480.0 fps offered: as configured p99 72 ms, ingest.decode.threads=1 p99 89 ms (best of 2 each),"
            + " ratio 1.236; cores busy 1.57/1.90 and 1.90/1.90\n")
        .containsPattern("\n\\(4\\) at 80% +1\\.90 cores, [^\n]*\n {23}GC paused 14 times, 230 ms in all, the longest 41 ms\n")
        .contains("(5) naive              0.60 cores, java 100%\n"
            + "                       GC paused once, 12 ms in all, the longest 12 ms\n")
        // 1.9 cores at 600 and 479.5 frames/s; the inference workers took 1.5 of every 1.9 s of CPU.
        .contains("CPU per frame, ms (all threads: pipeline, broker, load generator)\n"
            + "(3) pipeline             3.17   model 2.50, the rest 0.67\n"
            + "(4) at 80%               3.96   model 3.13, the rest 0.83\n")
        .contains("CPUs busy at 80% of saturation        0.950   (at saturation's CPU per frame: 0.760)\n"
            + "    near 1, frames queue for the CPUs, which here also run the broker and the load generator:\n"
            + "    `gapstream load` measures a deployment from another machine\n");
    assertThat(table).doesNotContain("timed from the first frame written");
    assertThat(table.indexOf("before them")).isBetween(table.indexOf("(3) pipeline, cam.enabled=false"), table.indexOf("(5) naive"));
  }

  @Test
  void showsTheLoadSearchsRunsAndWhatTheyFound() {
    LatencyRow warm = new LatencyRow(0.8, 480, 470, 18000, 90, 400, 500, 600, 80, 14, CPU, PARTS);
    LatencyRow half = new LatencyRow(0.5, 300, 300, 5400, 30, 62, 80, 95, 80, 5, CPU, PARTS);
    LatencyRow most = new LatencyRow(0.75, 450, 449, 8100, 60, 210, 260, 280, 80, 12, CPU, PARTS);
    BenchReport.LoadSearch search = new BenchReport.LoadSearch(80, 0.5, 300, 0.75, List.of(half, most), List.of(warm));

    String table = ReportTable.format(report(List.of(most), new BenchReport.Ratios(16, 0.67, 1.33, 6.3, 0, 2.6, Double.NaN, 1.1, 0.8), search));

    assertThat(table)
        .contains("    the highest load within the bound, by bisection on one service:\n"
            + "    80%, not counted             480.0     470.0       90      400      500      600      80.0   14.0   18000\n"
            + "    1: 50.0%, within             300.0     300.0       30       62       80       95      80.0    5.0    5400\n"
            + "    2: 75.0%, beyond             450.0     449.0       60      210      260      280      80.0   12.0    8100\n"
            + "    within the bound up to 50.0% of saturation (300.0 frames/s); beyond it from 75.0%\n")
        .contains("highest load with p99 within bound    0.500   (of saturation; bisection, 2 runs)\n");
  }

  /** Without a latency run at 80% (--rates, or --loads without 0.8) the table says so, not "NaN". */
  @Test
  void saysWhenThereWasNoRunAt80Percent() {
    LatencyRow rate = new LatencyRow(0.74, 400, 399.6, 7200, 31, 65, 95, 113, 102, 5.7, CPU, PARTS);

    String table =
        ReportTable.format(report(List.of(rate), new BenchReport.Ratios(16, 0.78, 0.93, 5.6, 0.03, Double.NaN, Double.NaN, Double.NaN, 0.7), null));

    assertThat(table)
        .contains("    at 74% of saturation         400.0     399.6       31       65       95      113     102.0    5.7    7200\n")
        .contains("p99 at 80% / bound                   not measured: no latency run at 80% of saturation\n")
        .doesNotContain("CPUs busy at 80%")
        .doesNotContain("its rounds")
        .doesNotContain("NaN");
  }

  /**
   * On a GPU the workers are on a batch nearly all the time and in the run for less than half of
   * it (the H200's stage 2: on the CPU 94%, runs 33%; its stage 3: 85% and 45%): the table says
   * their own work sets the rate. Where the run fills the workers' time (MODEL: 93% of it), or the
   * workers idle, it says nothing.
   */
  @Test
  void saysWhenTheWorkersOwnWorkSetsTheRate() {
    BenchReport.Ratios ratios = new BenchReport.Ratios(16, 0.2, 0.7, 7.6, 0, Double.NaN, Double.NaN, Double.NaN, 0.3);

    String gpu = ReportTable.format(report(List.of(), ratios, null, 1, new Model(0.08, 0.33, 2.9, 2.6, 1.8, 0.94)));
    String shorter = ReportTable.format(report(List.of(), ratios, null, 1, new Model(0.16, 0.45, 2.0, 5.1, 1.3, 0.85)));
    String cpu = ReportTable.format(report(List.of(), ratios, null, 1, MODEL));
    String idle = ReportTable.format(report(List.of(), ratios, null, 1, new Model(0.08, 0.2, 2.9, 2.6, 1.8, 0.6)));

    assertThat(gpu)
        .contains("    (3)'s workers were on a batch 94% of the time and in the run 33%: their own work, 4.70 ms a batch\n"
            + "    against the run's 2.60, set the rate, not the model; more inference slots (inference.concurrency) raise it\n");
    assertThat(shorter)
        .as("their own work shorter than the run, the GPU still idle half the time")
        .contains("    (3)'s workers were on a batch 85% of the time and in the run 45%: their own work, 3.30 ms a batch\n");
    assertThat(cpu).doesNotContain("(3)'s workers");
    assertThat(idle).doesNotContain("(3)'s workers");
  }

  /** With more than one intra-op thread, ONNX Runtime's pool threads are not the workers': no split. */
  @Test
  void cpuPerFrameIsNotSplitWhenTheModelRunsOnItsOwnPool() {
    LatencyRow at80 = new LatencyRow(0.8, 480, 479.5, 6400, 41, 89, 115, 132, 89.06, 7.3, CPU, PARTS);

    String table = ReportTable.format(report(List.of(at80), new BenchReport.Ratios(16, 0.67, 1.33, 6.3, 0, 1.0, Double.NaN, 0.85, 0.76), null, 4));

    assertThat(table)
        .contains("CPU per frame, ms (all threads: pipeline, broker, load generator)\n"
            + "(3) pipeline             3.17\n"
            + "(4) at 80%               3.96\n")
        .doesNotContain("model 2.50")
        .contains("CPUs busy at 80% of saturation        0.850")
        .as("below 0.9, no word on the CPUs")
        .doesNotContain("frames queue for the CPUs");
  }

  /**
   * A latency run whose model took half again the CPU per frame of the saturated run, where stage 1
   * says its smaller batches cost 8% more: the table says the machine ran slower. A run at +20%
   * (within what its batches and open-loop work cost) gets no such line, nor does a smoke run.
   */
  @Test
  void saysWhenTheMachineRanSlowerThanItsBatchesExplain() {
    List<BenchReport.OrtRow> ort =
        List.of(
            new BenchReport.OrtRow(1, 40, 57.4, 34.8, 1.97),
            new BenchReport.OrtRow(2, 20, 118.6, 33.7, 1.93),
            new BenchReport.OrtRow(4, 10, 228.5, 35.0, 1.97),
            new BenchReport.OrtRow(16, 3, 912.8, 35.1, 1.86));
    // Stage 1's CPU per frame: 56.61 ms at 1, 57.27 at 2, 56.29 at 4, 52.99 at 16; at 2.3, on a
    // log scale between 2 and 4: 57.27 + 0.2016 * (56.29 - 57.27) = 57.07; at 15.4 between 4 and 16:
    // 56.29 + 0.9725 * (52.99 - 56.29) = 53.08.
    assertThat(ReportTable.ortCpuPerFrame(ort, 2.3)).isCloseTo(57.07, within(0.01));
    assertThat(ReportTable.ortCpuPerFrame(ort, 15.4)).isCloseTo(53.08, within(0.01));
    assertThat(ReportTable.ortCpuPerFrame(ort, 32)).as("past the largest: the largest's").isCloseTo(52.99, within(0.01));
    assertThat(ReportTable.ortCpuPerFrame(ort, 0.5)).as("below the smallest: the smallest's").isCloseTo(56.61, within(0.01));

    // Saturated: 1.97 cores, 93% in the model's workers, at 34.8 frames/s in batches of 15.4: 52.65 ms.
    Cpu saturatedCpu = new Cpu(1.97, Map.of("gapstream-infer", 0.93, "java", 0.07));
    Throughput saturated = new Throughput(400, 11.5, 34.8, 15.4, saturatedCpu, MODEL);
    // At 80%: 1.92 cores, 91% model, 22.4 frames/s: 78.0 ms a frame, 48% more, in batches of 2.3.
    LatencyRow slow = new LatencyRow(0.8, 27.8, 22.4, 440, 1754, 5595, 5707, 5707, 1835.7, 2.3,
        new Cpu(1.92, Map.of("gapstream-infer", 0.91, "java", 0.09)), PARTS);
    // At 50%: 1.27 cores, 85% model, 17.4 frames/s: 62.0 ms a frame, 18% more, in batches of 1.
    LatencyRow usual = new LatencyRow(0.5, 17.4, 17.4, 350, 88, 144, 158, 158, 1835.7, 1.0,
        new Cpu(1.27, Map.of("gapstream-infer", 0.85, "java", 0.15)), PARTS);
    Function<Boolean, BenchReport> report = quick ->
        new BenchReport(
            MACHINE,
            new BenchReport.Setup("resnet18.onnx", "synthetic jpeg", "224x224", 400, 16, 4_194_304, 16, 10, 1, 2, 2, 256, 0, 0, quick),
            ort, saturated, List.of(), List.of(), saturated, saturated, List.of(saturated), saturated, List.of(),
            List.of(usual, slow), List.of(),
            new BenchReport.Ratios(16, 0.99, 0.96, 1.5, 0, 3.05, Double.NaN, 1.19, 0.79), List.of(), List.of(), null);

    String table = ReportTable.format(report.apply(false));

    assertThat(table)
        .contains("(4) at 80%              85.71   model 78.00, the rest 7.71\n"
            + "    at 80% the model took 48% more CPU a frame than in (3); its batches (2.3 against 15.4) explain +8% by (1):\n"
            + "    the machine itself ran slower in that run (on a shared host: other tenants on its cores), and its figures with it\n")
        .doesNotContain("at 50% the model took");
    Throughput noWorkers = new Throughput(400, 11.5, 34.8, 15.4, new Cpu(1.97, Map.of("java", 1.97)), MODEL);
    BenchReport unnamed =
        new BenchReport(
            MACHINE,
            new BenchReport.Setup("resnet18.onnx", "synthetic jpeg", "224x224", 400, 16, 4_194_304, 16, 10, 1, 2, 2, 256, 0, 0, false),
            ort, noWorkers, List.of(), List.of(), noWorkers, noWorkers, List.of(noWorkers), noWorkers, List.of(),
            List.of(slow), List.of(),
            new BenchReport.Ratios(16, 0.99, 0.96, 1.5, 0, 3.05, Double.NaN, 1.19, 0.79), List.of(), List.of(), null);
    assertThat(ReportTable.format(unnamed)).as("no model threads seen saturated: nothing to compare")
        .doesNotContain("the model took")
        .doesNotContain("Infinity");
    assertThat(ReportTable.format(report.apply(true))).as("a smoke run's figures say nothing of the machine")
        .contains("(4) at 80%              85.71   model 78.00, the rest 7.71\n")
        .doesNotContain("the model took");
  }

  @Test
  void saysWhenAPipelineRunWasTimedFromItsStart() {
    BenchReport steady = report(List.of(), new BenchReport.Ratios(16, 0.67, 1.33, 6.3, 0, 1.0, 1.9, 0.95, 0.76), null);
    Throughput whole = new Throughput(24, 0.9, 26.7, 8, CPU, MODEL, true);
    BenchReport smoke = withRuns(steady, steady.inProcess(), whole);

    assertThat(ReportTable.format(smoke))
        .contains("(3) pipeline over Kafka, saturated                 26.7                 8.0   1.90\n"
            + "(3) pipeline, cam.enabled=false                   600.0                15.9   1.90\n"
            + "    the first row timed from the first frame written, start-up included:"
            + " its run ended under 200 ms after the warm-up\n");
    assertThat(ReportTable.format(steady)).doesNotContain("timed from the first frame");
  }

  @Test
  void saysWhenTheInProcessRunWasTimedFromItsStart() {
    BenchReport steady = report(List.of(), new BenchReport.Ratios(16, 0.67, 1.33, 6.3, 0, 1.0, 1.9, 0.95, 0.76), null);
    Throughput whole = new Throughput(24, 0.9, 26.7, 8, CPU, MODEL, true);
    BenchReport smoke = withRuns(steady, whole, steady.pipeline());

    assertThat(ReportTable.format(smoke))
        .contains("(2) decode+preprocess+infer, in process            26.7                 8.0   1.90\n"
            + "    timed from the first frame, start-up included: its run ended within two batches or 200 ms"
            + " of the warm-up\n");
  }

  /** {@code report} with stage 2's run and stage 3's (with CAMs) replaced, each its stage's only round. */
  private static BenchReport withRuns(BenchReport report, Throughput inProcess, Throughput pipeline) {
    return new BenchReport(
        report.machine(), report.setup(), report.ort(), inProcess, List.of(inProcess),
        report.pipelineWarmUp(), pipeline, report.pipelineNoCam(), List.of(pipeline), report.naive(),
        report.naiveRounds(), report.latency(), report.latencyWarmUp(), report.ratios(), report.experiments(),
        report.latencyExperiments(), report.loadSearch());
  }

  private static BenchReport report(List<LatencyRow> latency, BenchReport.Ratios ratios, BenchReport.LoadSearch search) {
    return report(latency, ratios, search, 1);
  }

  private static BenchReport report(
      List<LatencyRow> latency, BenchReport.Ratios ratios, BenchReport.LoadSearch search, int inferenceThreads) {
    return report(latency, ratios, search, inferenceThreads, MODEL);
  }

  private static BenchReport report(
      List<LatencyRow> latency, BenchReport.Ratios ratios, BenchReport.LoadSearch search, int inferenceThreads, Model model) {
    Throughput t = new Throughput(1800, 3, 600, 15.9, CPU, model);
    return new BenchReport(
        MACHINE,
        new BenchReport.Setup(
            "model.onnx", "synthetic jpeg", "224x224", 2000, 16, 4_194_304, 16, 10, inferenceThreads, 2, 2, 256, 0, 0, false),
        List.of(new BenchReport.OrtRow(16, 40, 35.8, 894.8, 1.98)),
        t, List.of(), List.of(), t, t, List.of(t), t, List.of(), latency, List.of(), ratios, List.of(), List.of(), search);
  }
}
