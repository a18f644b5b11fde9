package dev.gapstream.bench;

/** Rounding and ratios for reports: NaN, not an exception, where a figure is missing. */
final class Stats {

  private Stats() {}

  /** Three decimals: finer than any of these measurements can resolve. */
  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000.0) / 1000.0 : v;
  }

  /** The first frames of a run of {@code total} that a stage leaves out as warm-up; at least one is timed. */
  static int warmFrames(int total, double fraction) {
    return (int) Math.min(total - 1, Math.round(total * fraction));
  }

  static double ratio(double numerator, double denominator) {
    return denominator > 0 && Double.isFinite(numerator) ? round(numerator / denominator) : Double.NaN;
  }
}
