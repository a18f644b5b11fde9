package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.Model;
import dev.gapstream.metrics.GapstreamMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * A reading of the time the model has spent running, from the batch runner's own {@code
 * gapstream.inference} timer: with the stage's frame count and window it splits a throughput into
 * how fast ONNX Runtime ran and how much of the time it was running at all.
 */
record ModelTime(double nanos) {

  static ModelTime of(MeterRegistry registry) {
    Timer timer = registry.find(GapstreamMetrics.INFERENCE).timer();
    return new ModelTime(timer == null ? Double.NaN : timer.totalTime(TimeUnit.NANOSECONDS));
  }

  /**
   * What the model did between {@code before} and now, with {@code concurrency} runs at once at
   * most. A run is counted when it ends, so a run begun before the window counts whole (busy may
   * come out a little over 1).
   */
  Model since(ModelTime before, long frames, double seconds, int concurrency) {
    double wallNanos = (nanos - before.nanos) / concurrency;
    return new Model(Stats.round(wallNanos / 1e6 / frames), Stats.round(wallNanos / 1e9 / seconds));
  }
}
