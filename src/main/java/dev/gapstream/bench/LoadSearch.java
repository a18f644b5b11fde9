package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.LatencyRow;
import java.util.ArrayList;
import java.util.List;

/**
 * A bisection for the highest offered load, as a fraction of the saturation rate, at which the
 * end-to-end p99 stays within the latency bound: what the pipeline carries at bounded latency, the
 * figure a capacity plan needs, where stage 4 says only whether two fixed loads fit.
 *
 * <p>Each run tries the middle of the interval between the highest load found within the bound
 * (at first none) and the lowest found beyond it (at first the saturation rate, beyond which an
 * open-loop queue only grows). One run is one sample of a tail that varies from run to run: a run
 * that exceeds the bound by chance sends the search below it for good, so the result leans low, and
 * every run is reported with it. Not thread-safe; one search per instance.
 */
final class LoadSearch {

  private final double boundMs;
  private final List<LatencyRow> runs = new ArrayList<>();
  private double within;
  private double beyond = 1;

  LoadSearch(double boundMs) {
    this.boundMs = boundMs;
  }

  /** The load the next run should offer. */
  double next() {
    return (within + beyond) / 2;
  }

  /** Takes a run at {@link #next()}'s load into the search. */
  void record(LatencyRow run) {
    runs.add(run);
    if (run.withinBound()) {
      within = Math.max(within, run.loadFraction());
    } else {
      beyond = Math.min(beyond, run.loadFraction());
    }
  }

  /**
   * What the runs so far found, with the service's uncounted runs before them.
   *
   * @param saturatedFps the rate the loads are fractions of
   */
  BenchReport.LoadSearch result(double saturatedFps, List<LatencyRow> warmUp) {
    // Every run's load is below 1, so beyond moved off its start only if a run exceeded the bound.
    return new BenchReport.LoadSearch(
        boundMs,
        within,
        Stats.round(within * saturatedFps),
        beyond < 1 ? beyond : Double.NaN,
        runs,
        warmUp);
  }
}
