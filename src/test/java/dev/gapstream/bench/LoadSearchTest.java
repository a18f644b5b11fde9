package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.bench.BenchReport.Cpu;
import dev.gapstream.bench.BenchReport.LatencyRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class LoadSearchTest {

  private static final double BOUND = 80;
  private static final double SATURATED = 600;

  /** Runs the search against a pipeline whose p99 at each load is {@code p99}; returns the loads tried. */
  private static List<Double> search(LoadSearch search, int runs, DoubleUnaryOperator p99) {
    List<Double> loads = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      double load = search.next();
      loads.add(load);
      search.record(row(load, p99.applyAsDouble(load)));
    }
    return loads;
  }

  private static LatencyRow row(double load, double p99) {
    return new LatencyRow(load, load * SATURATED, load * SATURATED, 1000, p99 / 2, p99, p99, p99, BOUND, 4, new Cpu(1, Map.of()), null);
  }

  @Test
  void halvesTheIntervalTowardsTheLoadWhereTheTailCrossesTheBound() {
    LoadSearch search = new LoadSearch(BOUND);
    // Within the bound up to 70% of saturation, far beyond it above.
    List<Double> loads = search(search, 5, load -> load <= 0.7 ? 60 : 400);

    assertThat(loads).containsExactly(0.5, 0.75, 0.625, 0.6875, 0.71875);
    BenchReport.LoadSearch result = search.result(SATURATED, List.of());
    assertThat(result.withinLoad()).isEqualTo(0.6875);
    assertThat(result.withinFps()).isEqualTo(412.5);
    assertThat(result.beyondLoad()).isEqualTo(0.71875);
    assertThat(result.boundMs()).isEqualTo(BOUND);
    assertThat(result.runs()).extracting(LatencyRow::loadFraction).containsExactlyElementsOf(loads);
  }

  @Test
  void aRunAtTheBoundIsWithinIt() {
    LoadSearch search = new LoadSearch(BOUND);
    search(search, 1, load -> BOUND);

    assertThat(search.result(SATURATED, List.of()).withinLoad()).isEqualTo(0.5);
  }

  @Test
  void saysSoWhenNoRunWasBeyondTheBound() {
    LoadSearch search = new LoadSearch(BOUND);
    List<Double> loads = search(search, 3, load -> 30);

    assertThat(loads).containsExactly(0.5, 0.75, 0.875);
    BenchReport.LoadSearch result = search.result(SATURATED, List.of());
    assertThat(result.withinLoad()).isEqualTo(0.875);
    assertThat(result.beyondLoad()).isNaN();
  }

  @Test
  void findsNoLoadWhenEveryRunExceededTheBound() {
    LoadSearch search = new LoadSearch(BOUND);
    List<Double> loads = search(search, 3, load -> 500);

    assertThat(loads).containsExactly(0.5, 0.25, 0.125);
    BenchReport.LoadSearch result = search.result(SATURATED, List.of(row(0.8, 900)));
    assertThat(result.withinLoad()).isZero();
    assertThat(result.withinFps()).isZero();
    assertThat(result.beyondLoad()).isEqualTo(0.125);
    assertThat(result.warmUp()).hasSize(1);
  }
}
