package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.Model;
import dev.gapstream.metrics.GapstreamMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * A reading of the inference workers' time, from the batch runner's own timers: ONNX Runtime's
 * run ({@code gapstream.inference}) and the worker's parts around it, the input tensor before
 * ({@code gapstream.batch.tensor}) and the predictions after ({@code gapstream.batch.results}).
 * With the stage's frame count and window it splits a throughput into how fast ONNX Runtime ran,
 * how much of the time it was running at all, and what kept the workers busy besides. Public for
 * JMH's {@code BatchRunnerBenchmark}, which reads the same timers.
 *
 * @param runNanos the runs' summed time
 * @param tensorNanos the tensors' summed time
 * @param resultsNanos the results' summed time
 * @param batches runs timed
 */
public record ModelTime(double runNanos, double tensorNanos, double resultsNanos, long batches) {

  public static ModelTime of(MeterRegistry registry) {
    Timer run = registry.find(GapstreamMetrics.INFERENCE).timer();
    return new ModelTime(
        total(run),
        total(registry.find(GapstreamMetrics.BATCH_TENSOR).timer()),
        total(registry.find(GapstreamMetrics.BATCH_RESULTS).timer()),
        run == null ? 0 : run.count());
  }

  private static double total(Timer timer) {
    return timer == null ? Double.NaN : timer.totalTime(TimeUnit.NANOSECONDS);
  }

  /**
   * What the workers did between {@code before} and now, with {@code concurrency} of them. A batch
   * is counted when its part ends, so one begun before the window counts whole (busy may come out
   * a little over 1).
   */
  Model since(ModelTime before, long frames, double seconds, int concurrency) {
    double run = runNanos - before.runNanos;
    double tensor = tensorNanos - before.tensorNanos;
    double results = resultsNanos - before.resultsNanos;
    long n = batches - before.batches;
    double slotNanos = seconds * 1e9 * concurrency;
    return new Model(
        Stats.round(run / concurrency / 1e6 / frames),
        Stats.round(run / slotNanos),
        perBatchMs(tensor, n),
        perBatchMs(run, n),
        perBatchMs(results, n),
        Stats.round((tensor + run + results) / slotNanos));
  }

  private static double perBatchMs(double nanos, long batches) {
    return batches == 0 ? Double.NaN : Stats.round(nanos / batches / 1e6);
  }
}
