package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.Part;
import dev.gapstream.bench.BenchReport.Parts;
import java.util.Arrays;

/**
 * Where each frame of a latency run spent its time, from the parts its prediction reports
 * ({@code latencyMs}: {@code queue}, {@code inference}, {@code endToEnd} when the prediction was
 * made) and the prediction record's timestamp:
 *
 * <ul>
 *   <li><b>to the pipeline</b>: scheduled send → consumed (the load generator, the producer's
 *       linger, the broker, the consumer's fetch, the hand-over to the event loop), plus the
 *       time its batch spent making the predictions of the frames before it;
 *   <li><b>decode, batch, wait</b>: consumed → inference start (decoding, the batch's delay, and
 *       waiting for a free inference slot);
 *   <li><b>inference</b>: the model's run of the frame's batch;
 *   <li><b>to publish</b>: the prediction made → its record's timestamp: on {@code bench}'s topics
 *       appended by the broker (the rest of the batch's predictions, the hand-back to the event
 *       loop, offset order, the producer's linger, the produce request).
 * </ul>
 *
 * <p>Each part is summarised by its own p50 and p99, and by its mean over the slowest 1% of frames
 * (by total), which says what the frames at the tail waited on. Not thread-safe.
 */
final class LatencyParts {

  private static final String[] NAMES = {"to the pipeline", "decode, batch, wait", "inference", "to publish"};

  private double[] totals = new double[1024];
  private double[][] parts = new double[NAMES.length][1024];
  private int n;

  /**
   * One frame: its end-to-end time (scheduled send → published) and the three parts the
   * prediction carries, all in milliseconds.
   */
  void add(double totalMs, double queueMs, double inferenceMs, double endToEndAtPredictionMs) {
    if (n == totals.length) {
      totals = Arrays.copyOf(totals, 2 * n);
      for (int p = 0; p < parts.length; p++) {
        parts[p] = Arrays.copyOf(parts[p], 2 * n);
      }
    }
    totals[n] = totalMs;
    parts[0][n] = Math.max(0, endToEndAtPredictionMs - queueMs - inferenceMs);
    parts[1][n] = queueMs;
    parts[2][n] = inferenceMs;
    parts[3][n] = Math.max(0, totalMs - endToEndAtPredictionMs);
    n++;
  }

  /** The summary; null when no frame was added. */
  Parts summary() {
    if (n == 0) {
      return null;
    }
    Integer[] byTotal = new Integer[n];
    Arrays.setAll(byTotal, i -> i);
    Arrays.sort(byTotal, (a, b) -> Double.compare(totals[b], totals[a]));
    int slowest = Math.max(1, n / 100);
    Part[] out = new Part[NAMES.length];
    for (int p = 0; p < NAMES.length; p++) {
      double[] sorted = Arrays.copyOf(parts[p], n);
      Arrays.sort(sorted);
      double sum = 0;
      for (int k = 0; k < slowest; k++) {
        sum += parts[p][byTotal[k]];
      }
      out[p] =
          new Part(
              NAMES[p],
              Stats.round(percentile(sorted, 50)),
              Stats.round(percentile(sorted, 99)),
              Stats.round(sum / slowest));
    }
    return new Parts(out[0], out[1], out[2], out[3], slowest);
  }

  /** Nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double percent) {
    int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }
}
