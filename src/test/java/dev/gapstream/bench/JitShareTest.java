package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JitShareTest {

  @Test
  void theCompilerThreadsShareOfTheProcesssCpuDecidesWhetherTheJitHasSettled() {
    var compiling =
        new BenchReport.Cpu(1.9, Map.of("gapstream-infer", 1.4, "C2 CompilerThre", 0.3, "C1 CompilerThre", 0.1, "GC Thread", 0.2));
    var settled = new BenchReport.Cpu(1.6, Map.of("gapstream-infer", 1.5, "C2 CompilerThre", 0.05, "data-plane-kafk", 0.45));

    assertThat(Benchmark.compilerShare(compiling)).isCloseTo(0.2, within(1e-9));
    assertThat(Benchmark.compiling(compiling)).isTrue();
    assertThat(Benchmark.compilerShare(settled)).isCloseTo(0.025, within(1e-9));
    assertThat(Benchmark.compiling(settled)).isFalse();
  }

  @Test
  void stageThreeCountsOnlyAfterTwoQuietRunsInARow() {
    var quiet = run(Map.of("gapstream-infer", 1.9, "C2 CompilerThre", 0.05));
    var busy = run(Map.of("gapstream-infer", 1.6, "C2 CompilerThre", 0.3));

    assertThat(Benchmark.settled(List.of(quiet))).isFalse();
    assertThat(Benchmark.settled(List.of(busy, quiet))).isFalse();
    assertThat(Benchmark.settled(List.of(quiet, busy))).isFalse();
    assertThat(Benchmark.settled(List.of(busy, quiet, quiet))).isTrue();
  }

  private static BenchReport.Throughput run(Map<String, Double> seconds) {
    return new BenchReport.Throughput(
        1800, 3, 600, 15.9, new BenchReport.Cpu(1.95, seconds), new BenchReport.Model(1.5, 0.93, 1.2, 24.0, 0.6, 0.97));
  }

  @Test
  void withoutPerThreadFiguresNothingCountsAsCompiling() {
    assertThat(Benchmark.compiling(new BenchReport.Cpu(0, Map.of()))).isFalse();
  }
}
