package dev.gapstream.bench;

import java.time.Duration;
import java.util.List;

/**
 * How long and at what sizes a benchmark measures (the workload itself is a {@link Workload}).
 *
 * @param batchSizes bare-inference batch sizes; the pipeline's {@code batch.max.size} is added
 * @param ortDuration timed run per batch size
 * @param ortMinIterations timed runs per batch size at least
 * @param latencyDuration offered-load time per latency run
 * @param loads fractions of the saturation rate to offer, each a latency run
 * @param warmup fraction of each latency run's first frames left out of the histogram
 * @param timeout a stage that has not finished by then fails the run
 * @param compareSpinWait also run stage 2 with ONNX Runtime's spin-waiting flipped, for the A/B ratio
 */
public record BenchSettings(
    List<Integer> batchSizes,
    Duration ortDuration,
    int ortMinIterations,
    Duration latencyDuration,
    List<Double> loads,
    double warmup,
    Duration timeout,
    boolean compareSpinWait) {

  public BenchSettings {
    batchSizes = List.copyOf(batchSizes);
    loads = List.copyOf(loads);
  }
}
