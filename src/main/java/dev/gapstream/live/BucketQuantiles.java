package dev.gapstream.live;

/**
 * Quantiles estimated from histogram buckets, the way Prometheus' {@code histogram_quantile} does
 * it: find the bucket holding the rank and interpolate linearly inside it. Works on the difference
 * of two cumulative snapshots, so it describes only what was recorded between them. Pure function.
 */
final class BucketQuantiles {
  private BucketQuantiles() {}

  /**
   * @param upperBounds bucket upper bounds, ascending
   * @param cumulative count of values at or below each bound, same length
   * @param total count of all values, including any above the last bound
   * @param q the quantile in [0, 1]
   * @return the estimate, or NaN when {@code total} is 0; values beyond the last bound report the
   *     last bound (the histogram cannot say more)
   */
  static double quantile(double[] upperBounds, double[] cumulative, double total, double q) {
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double below = 0;
    for (int i = 0; i < upperBounds.length; i++) {
      if (cumulative[i] >= rank && cumulative[i] > below) {
        double lower = i == 0 ? 0 : upperBounds[i - 1];
        return lower + (upperBounds[i] - lower) * (rank - below) / (cumulative[i] - below);
      }
      below = cumulative[i];
    }
    return upperBounds.length == 0 ? Double.NaN : upperBounds[upperBounds.length - 1];
  }
}
