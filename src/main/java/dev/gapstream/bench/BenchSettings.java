package dev.gapstream.bench;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How long and at what sizes a benchmark measures (the workload itself is a {@link Workload}).
 *
 * @param batchSizes bare-inference batch sizes; the pipeline's {@code batch.max.size} is added
 * @param ortDuration timed run per batch size
 * @param ortMinIterations timed runs per batch size at least
 * @param latencyDuration offered-load time per counted latency run
 * @param latencyWarmUp offered-load time of the uncounted run each load starts with, on the same
 *     service (zero: none)
 * @param jitSettle how long, at most, stages 3 and 4 go on with uncounted runs after their warm-up
 *     while the JIT compilers still take a noticeable share of the CPU (zero: no such runs)
 * @param loads fractions of the saturation rate to offer, each a latency run (at least one)
 * @param rates offered rates in frames per second to run instead of {@code loads}, each taken as
 *     its fraction of the saturation rate once that is measured (empty: {@code loads})
 * @param warmup fraction of the first frames left out of each pipeline run's figures (saturation
 *     rate and latency histogram): a fresh service's first batches pay for first runs and the JIT
 * @param timeout a stage that has not finished by then fails the run
 * @param rounds measurements of each stage-1 batch size and each stage-3 variant, taken in turns
 *     (sizes in turn; with CAMs, without, then stage 2, with, ...), and of stage 5; each keeps its
 *     best
 * @param compareSpinWait also run stage 2 with ONNX Runtime's spin-waiting flipped, for the A/B ratio
 * @param compare configuration keys to set in an A/B run of stage 3 against the configuration as
 *     it is (none: no such run)
 * @param searchRuns latency runs of a bisection for the highest load whose p99 stays within the
 *     bound (zero: no search)
 */
public record BenchSettings(
    List<Integer> batchSizes,
    Duration ortDuration,
    int ortMinIterations,
    Duration latencyDuration,
    Duration latencyWarmUp,
    Duration jitSettle,
    List<Double> loads,
    List<Double> rates,
    double warmup,
    Duration timeout,
    int rounds,
    boolean compareSpinWait,
    Map<String, String> compare,
    int searchRuns) {

  public BenchSettings {
    if (!positive(ortDuration) || !positive(timeout)) {
      // A timeout of PT0S let stage 1 run whole, then failed stage 2 "after PT0S".
      throw new IllegalArgumentException(
          "--duration and --timeout must be positive, were " + ortDuration + " and " + timeout);
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1, was " + rounds);
    }
    if (latencyDuration.isNegative() || latencyDuration.isZero() || latencyWarmUp.isNegative()) {
      throw new IllegalArgumentException(
          "--latency-duration must be positive and --latency-warmup zero or more, were "
              + latencyDuration + " and " + latencyWarmUp);
    }
    if (batchSizes.stream().anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException("--batch-sizes must be 1 or more, were " + batchSizes);
    }
    if (loads.isEmpty()) {
      throw new IllegalArgumentException("--loads needs at least one load");
    }
    if (loads.stream().anyMatch(l -> !(l > 0) || l.isInfinite())) {
      // A load of 0 would schedule its second frame at the end of time, and the run never end.
      throw new IllegalArgumentException("--loads must be positive fractions of saturation, were " + loads);
    }
    if (rates.stream().anyMatch(r -> !(r > 0) || r.isInfinite())) {
      throw new IllegalArgumentException("--rates must be positive frames per second, were " + rates);
    }
    for (double rate : rates) {
      if (rate * latencyDuration.toNanos() / 1e9 > OpenLoad.MAX_FRAMES) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "--rates: %.0f frames/s for %s is over %d frames a run", rate, latencyDuration, OpenLoad.MAX_FRAMES));
      }
    }
    if (searchRuns < 0) {
      throw new IllegalArgumentException("--search-runs must be zero or more, was " + searchRuns);
    }
    if (jitSettle.isNegative()) {
      throw new IllegalArgumentException("the JIT settling time (--jit-settle) must be zero or more, was " + jitSettle);
    }
    batchSizes = List.copyOf(batchSizes);
    loads = List.copyOf(loads);
    rates = List.copyOf(rates);
    compare = Collections.unmodifiableMap(new LinkedHashMap<>(compare));
  }

  /**
   * The loads stage 4 runs, as fractions of {@code saturatedFps}: {@code rates} divided by it
   * where rates were given, else {@code loads}.
   */
  public List<Double> loadsAt(double saturatedFps) {
    return rates.isEmpty() ? loads : rates.stream().map(rate -> rate / saturatedFps).toList();
  }

  private static boolean positive(Duration d) {
    return !d.isNegative() && !d.isZero();
  }
}
