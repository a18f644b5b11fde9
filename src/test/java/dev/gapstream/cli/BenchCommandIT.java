package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gapstream.inference.TestModels;
import dev.gapstream.testing.BlockedThreadGuard;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bench --quick --json} runs every stage against the embedded broker and prints one JSON
 * report with every figure. Only the shape of the report is checked: timings belong in
 * BENCHMARKS.md, never in assertions. Its pipelines run under the blocked-thread check (surefire
 * sets {@code gapstream.eventloop.warn.ms} to 100 for the commands' services).
 */
@ExtendWith(BlockedThreadGuard.class)
class BenchCommandIT {

  @Test
  void quickJsonRunReportsEveryStage() throws Exception {
    Path model = TestModels.ensure("tiny-cam");

    CliRun run =
        CliRun.of(
            "bench", "--quick", "--json", "--compare-spin-wait", "--compare", "batch.max.size=4",
            "--latency-warmup", "PT0.5S", "--search-runs", "3", "--model", model.toString(), "--timeout", "PT3M");
    JsonNode report = run.report();
    assertThat(fieldNames(report))
        .containsExactlyInAnyOrder(
            "machine", "setup", "ort", "inProcess", "inProcessRounds", "pipelineWarmUp", "pipeline", "pipelineNoCam",
            "pipelineRounds", "naive", "naiveRounds", "latency", "latencyWarmUp", "ratios", "experiments",
            "latencyExperiments", "loadSearch");
    assertThat(report.at("/setup/frames").asInt()).isEqualTo(24);
    double fastestRound = 0;
    for (JsonNode round : report.get("pipelineRounds")) {
      fastestRound = Math.max(fastestRound, round.get("framesPerSecond").asDouble());
    }
    assertThat(report.get("pipelineRounds")).isNotEmpty();
    assertThat(report.at("/pipeline/framesPerSecond").asDouble()).as("the fastest round counts").isEqualTo(fastestRound);
    // Stage 2 once before stage 3 and once after its (one) round; stage 5 once; the fastest counts.
    assertThat(report.get("inProcessRounds")).hasSize(2);
    assertThat(report.get("naiveRounds")).hasSize(1);
    for (String stage : List.of("inProcess", "naive")) {
      double fastest = 0;
      for (JsonNode round : report.get(stage + "Rounds")) {
        fastest = Math.max(fastest, round.get("framesPerSecond").asDouble());
      }
      assertThat(report.at("/" + stage + "/framesPerSecond").asDouble()).as(stage).isEqualTo(fastest);
    }
    assertThat(report.at("/setup/quick").asBoolean()).isTrue();
    assertThat(report.at("/machine/cpus").asInt()).isPositive();

    List<Integer> sizes = new ArrayList<>();
    for (JsonNode row : report.get("ort")) {
      assertThat(fieldNames(row))
          .containsExactlyInAnyOrder("batchSize", "iterations", "msPerBatch", "imagesPerSecond", "coresBusy");
      assertThat(row.get("coresBusy").asDouble()).isPositive();
      assertThat(row.get("iterations").asInt()).isGreaterThanOrEqualTo(2);
      sizes.add(row.get("batchSize").asInt());
    }
    // The sizes asked for, plus batch.max.size (its time sets the latency bound).
    assertThat(sizes).containsExactly(1, 2, 4, 16);

    for (String stage : List.of("inProcess", "pipeline", "pipelineNoCam", "naive")) {
      JsonNode t = report.get(stage);
      assertThat(fieldNames(t))
          .as(stage)
          .containsExactlyInAnyOrder(
              "frames", "seconds", "framesPerSecond", "meanBatchSize", "cpu", "model", "timedFromStart");
      assertThat(t.get("framesPerSecond").isNumber()).as(stage).isTrue();
      // The runner's inference timer, read at both ends of the window. A quick run has two or
      // three batches, two at a time, and its window opens when the first 10% of frames are
      // done: in process and in the pipeline the other batches may have run by then (the
      // pipeline's acknowledgements still out). The naive loop runs one frame at a time.
      assertThat(t.at("/model/msPerFrame").isNumber()).as(stage).isTrue();
      assertThat(t.at("/model/msPerFrame").asDouble()).as(stage).isGreaterThanOrEqualTo(0);
      assertThat(t.at("/model/busy").asDouble()).as(stage).isGreaterThanOrEqualTo(0);
      // Beside it, the workers' own parts; per batch null where no batch ended in the window.
      assertThat(fieldNames(t.get("model")))
          .as(stage)
          .containsExactlyInAnyOrder(
              "msPerFrame", "busy", "tensorMsPerBatch", "runMsPerBatch", "resultsMsPerBatch", "workersBusy");
      assertThat(t.at("/model/workersBusy").asDouble()).as(stage).isGreaterThanOrEqualTo(t.at("/model/busy").asDouble());
      if (stage.equals("naive")) {
        assertThat(t.at("/model/msPerFrame").asDouble()).as(stage).isPositive();
        for (String part : List.of("tensorMsPerBatch", "runMsPerBatch", "resultsMsPerBatch")) {
          assertThat(t.at("/model/" + part).asDouble()).as(part).isPositive();
        }
      }
      assertCpu(t.get("cpu"), stage);
    }
    // Rates leave out each run's first 10% of frames (its warm-up): 22 of 24 counted in the naive
    // loop. In process the window opens when the batch that reaches the mark has finished, and
    // counts the frames after it (its batch-mates run before the clock started), or, where that
    // leaves under two batches or 200 ms, spans the whole run (all 24: it used to count none); the
    // pipeline's at the first sample past the mark once all frames are in the topic (fewer counted),
    // or, in a run over before that or under 200 ms after it, spans the whole run (all 24): a window
    // of one sample read no CPU time, and the CPU figures below came out 0.
    assertThat(report.at("/inProcess/frames").asInt()).isBetween(1, 24);
    assertThat(report.at("/naive/frames").asInt()).isEqualTo(22);
    assertThat(report.at("/pipeline/frames").asInt()).isBetween(1, 24);
    // All 24 only when timed whole, which the report says.
    for (String stage : List.of("inProcess", "pipeline", "pipelineNoCam")) {
      boolean whole = report.at("/" + stage + "/frames").asInt() == 24;
      assertThat(report.at("/" + stage + "/timedFromStart").asBoolean()).as(stage).isEqualTo(whole);
    }

    // Each load: an uncounted run, then the counted one on the same service. The counted run's
    // reader starts at the predictions topic's end, so it sees its own frames only: 1 s of them at
    // the offered rate, less the first 10%.
    JsonNode latency = report.get("latency");
    JsonNode warmUp = report.get("latencyWarmUp");
    assertThat(latency).hasSize(2);
    assertThat(warmUp).hasSize(2);
    for (int i = 0; i < 2; i++) {
      double load = i == 0 ? 0.5 : 0.8;
      assertThat(latency.get(i).get("loadFraction").asDouble()).isEqualTo(load);
      assertThat(warmUp.get(i).get("loadFraction").asDouble()).isEqualTo(load);
      int sent = Math.max(2, (int) Math.round(latency.get(i).get("offeredFps").asDouble()));
      assertThat(latency.get(i).get("frames").asLong()).isBetween(sent - sent / 10 - 1L, sent - sent / 10 + 1L);
      int warmSent = Math.max(2, (int) Math.round(warmUp.get(i).get("offeredFps").asDouble() * 0.5));
      assertThat(warmUp.get(i).get("frames").asLong()).isBetween(warmSent - warmSent / 10 - 1L, warmSent - warmSent / 10 + 1L);
    }
    for (JsonNode row : List.of(latency.get(0), latency.get(1), warmUp.get(0), warmUp.get(1))) {
      assertThat(fieldNames(row))
          .containsExactlyInAnyOrder(
              "loadFraction", "offeredFps", "achievedFps", "frames", "p50Ms", "p99Ms", "p999Ms",
              "maxMs", "boundMs", "meanBatchSize", "cpu", "parts");
      assertThat(row.get("p99Ms").isNumber()).isTrue();
      assertCpu(row.get("cpu"), "latency");
      assertParts(row);
    }

    assertThat(fieldNames(report.get("ratios")))
        .containsExactlyInAnyOrder(
            "ortBestBatchSize", "pipelineVsOrtBest", "pipelineVsInProcess", "pipelineVsNaive",
            "camCost", "p99At80VsBound", "p99At80VsCalibratedBound", "cpuAt80", "cpuAt80AtSaturationCost");
    for (String ratio : fieldNames(report.get("ratios"))) {
      if (!ratio.equals("p99At80VsCalibratedBound")) {
        assertThat(report.get("ratios").get(ratio).isNumber()).as(ratio).isTrue();
      }
    }
    // The stricter bound only where calibration chose a batch smaller than the full one.
    int calibrated = report.at("/setup/calibratedBatch").asInt();
    assertThat(report.at("/setup/calibratedRun").asInt())
        .as("the run calibration chose, within its batch")
        .isBetween(calibrated > 0 ? 1 : 0, calibrated);
    boolean smaller = calibrated > 0 && calibrated < report.at("/setup/fullBatch").asInt();
    assertThat(report.at("/ratios/p99At80VsCalibratedBound").isNumber())
        .as("p99At80VsCalibratedBound with calibrated batch %d", calibrated)
        .isEqualTo(smaller);
    assertThat(report.at("/ratios/cpuAt80").asDouble()).isPositive();
    assertThat(report.at("/ratios/cpuAt80AtSaturationCost").asDouble()).isPositive();

    JsonNode experiments = report.get("experiments");
    assertThat(experiments).hasSize(2);
    assertThat(experiments.get(0).get("name").asText()).isEqualTo("ort-spin-wait");
    assertThat(experiments.get(0).get("ratio").isNumber()).isTrue();
    // A B A B, each its best: the flipped engine twice, the configured one again between (its
    // first run is stage 2's), so that a warming JVM favours neither.
    assertThat(run.err().lines().filter(l -> l.contains("in process, with ONNX Runtime spin-waiting"))).hasSize(2);
    assertThat(run.err().lines().filter(l -> l.contains("in process, as configured, for the spin-wait"))).hasSize(1);
    assertThat(experiments.get(0).get("baselineFps").asDouble())
        .isGreaterThanOrEqualTo(report.at("/inProcessRounds/0/framesPerSecond").asDouble());
    assertThat(experiments.get(1).get("name").asText()).isEqualTo("pipeline");
    // Calibration bounded batch.max.pixels; a variant's batch.max.size gets the configured bound.
    assertThat(experiments.get(1).get("variant").asText()).isEqualTo("batch.max.size=4 batch.max.pixels=4194304");
    assertThat(experiments.get(1).get("ratio").isNumber()).isTrue();

    // The latency A/B: one offered rate for both, two counted runs of each, the lower p99 kept.
    JsonNode latencyAb = report.get("latencyExperiments");
    assertThat(latencyAb).hasSize(1);
    JsonNode ab = latencyAb.get(0);
    assertThat(ab.get("variant").asText()).isEqualTo("batch.max.size=4 batch.max.pixels=4194304");
    assertThat(ab.get("baselineRuns")).hasSize(2);
    assertThat(ab.get("variantRuns")).hasSize(2);
    double offered = ab.get("offeredFps").asDouble();
    assertThat(offered).isPositive();
    for (String side : List.of("baseline", "variant")) {
      JsonNode runs = ab.get(side + "Runs");
      double lower = Math.min(runs.get(0).get("p99Ms").asDouble(), runs.get(1).get("p99Ms").asDouble());
      assertThat(ab.get(side + "P99Ms").asDouble()).isEqualTo(lower);
      runs.forEach(r -> assertThat(r.get("offeredFps").asDouble()).isEqualTo(offered));
    }
    assertThat(ab.at("/variantRuns/0/meanBatchSize").asDouble()).isLessThanOrEqualTo(4.0);

    assertLoadSearch(report.get("loadSearch"), report.at("/pipeline/framesPerSecond").asDouble());
  }

  /**
   * Three runs after one uncounted at the last load, each at the middle of what the ones before
   * found, and the highest load within the bound among them.
   */
  private static void assertLoadSearch(JsonNode search, double saturatedFps) {
    assertThat(search.get("warmUp")).hasSize(1);
    assertThat(search.at("/warmUp/0/loadFraction").asDouble()).isEqualTo(0.8);
    JsonNode runs = search.get("runs");
    assertThat(runs).hasSize(3);
    double bound = search.get("boundMs").asDouble();
    double highestWithin = 0;
    double beyond = 1;
    for (JsonNode run : runs) {
      double load = run.get("loadFraction").asDouble();
      assertThat(load).isEqualTo((highestWithin + beyond) / 2);
      assertThat(run.get("offeredFps").asDouble()).isCloseTo(load * saturatedFps, within(0.01));
      assertThat(run.get("boundMs").asDouble()).isEqualTo(bound);
      if (run.get("p99Ms").asDouble() <= bound) {
        highestWithin = load;
      } else {
        beyond = load;
      }
    }
    assertThat(search.get("withinLoad").asDouble()).isEqualTo(highestWithin);
    if (beyond == 1) {
      assertThat(search.get("beyondLoad").isNull()).isTrue();
    } else {
      assertThat(search.get("beyondLoad").asDouble()).isEqualTo(beyond);
    }
  }

  /** The parts of each frame's time add up to it: the slowest 1% spent at least the p99 in them. */
  private static void assertParts(JsonNode row) {
    JsonNode parts = row.get("parts");
    assertThat(parts.get("slowestFrames").asLong()).isEqualTo(Math.max(1, row.get("frames").asLong() / 100));
    double slowest = 0;
    for (String name : List.of("toPipeline", "queued", "inference", "toPublish")) {
      JsonNode part = parts.get(name);
      assertThat(part.get("p50Ms").asDouble()).as(name).isBetween(0.0, part.get("p99Ms").asDouble());
      slowest += part.get("slowestMeanMs").asDouble();
    }
    assertThat(parts.at("/inference/p50Ms").asDouble()).isPositive();
    assertThat(slowest).isGreaterThanOrEqualTo(row.get("p99Ms").asDouble() - 0.5);
  }

  /**
   * {@code --rates} offers the same rates whatever the saturation round measured: each latency run
   * at its rate, reported as its fraction of saturation.
   */
  @Test
  void ratesSetTheOfferedLoads() throws Exception {
    Path model = TestModels.ensure("tiny-cam");

    JsonNode report =
        CliRun.of("bench", "--quick", "--json", "--rates", "20,40", "--model", model.toString(), "--timeout", "PT3M")
            .report();
    double saturatedFps = report.at("/pipeline/framesPerSecond").asDouble();
    JsonNode latency = report.get("latency");
    assertThat(latency).hasSize(2);
    for (int i = 0; i < 2; i++) {
      double rate = 20 * (i + 1);
      assertThat(latency.get(i).get("offeredFps").asDouble()).isCloseTo(rate, within(0.01));
      assertThat(latency.get(i).get("loadFraction").asDouble()).isCloseTo(rate / saturatedFps, within(1e-3));
    }
  }

  @Test
  void loadsAndRatesTogetherOrALoadRateOrBatchOfZeroFailAtStart() {
    for (String[] args : List.of(
        new String[] {"bench", "--quick", "--loads", "0.5", "--rates", "100"},
        new String[] {"bench", "--quick", "--rates", "0"},
        new String[] {"bench", "--quick", "--loads", "0"},
        new String[] {"bench", "--quick", "--loads", "0.5,-0.8"},
        new String[] {"bench", "--quick", "--batch-sizes", "1,0"},
        new String[] {"bench", "--quick", "--rounds", "0"},
        // Before: stage 1 ran whole, then stage 2 failed "after PT0S".
        new String[] {"bench", "--quick", "--timeout", "PT0S"},
        new String[] {"bench", "--quick", "--duration", "PT-1S"},
        // Before: a count over 2^31 kept its low bits, a 2-frame run reported at 1.1e8 frames/s.
        new String[] {"bench", "--quick", "--rates", "1.1e8"})) {
      CliRun run = CliRun.of(args);

      assertThat(run.code()).as(String.join(" ", args) + ": a usage error").isEqualTo(2);
      // The flag named last is the one at fault.
      assertThat(run.err()).as(String.join(" ", args)).contains(args[args.length - 2]);
    }
  }

  @Test
  void badCompareKeyFailsAtStartNamingIt() {
    CliRun run = CliRun.of("bench", "--quick", "--compare", "batch.max.sise=4");

    assertThat(run.code()).isNotZero();
    assertThat(run.err()).contains("batch.max.sise");
  }

  /**
   * CPU accounting is there for every run. A quick run's timed windows are a few milliseconds,
   * below the kernel's 10 ms accounting tick, so only the shape is checked here; ThreadCpuTest
   * checks the figures.
   */
  private static void assertCpu(JsonNode cpu, String stage) {
    assertThat(fieldNames(cpu)).as(stage).containsExactlyInAnyOrder("coresBusy", "seconds", "gc");
    assertThat(cpu.get("coresBusy").asDouble()).as(stage).isGreaterThanOrEqualTo(0);
    assertThat(cpu.get("seconds").isObject()).as(stage).isTrue();
    JsonNode gc = cpu.get("gc");
    assertThat(fieldNames(gc)).as(stage).containsExactlyInAnyOrder("count", "totalMs", "longestMs");
    assertThat(gc.get("count").asInt()).as(stage).isGreaterThanOrEqualTo(0);
    assertThat(gc.get("longestMs").asLong()).as(stage).isBetween(0L, gc.get("totalMs").asLong());
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
