package dev.gapstream.live;

import dev.gapstream.metrics.GapstreamMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The page's once-a-second figures, read from the same meters Prometheus scrapes: rates from counter
 * deltas, the mean batch size from the batch-size summary, and end-to-end p50/p99 from the
 * end-to-end timer's buckets. Every figure covers the last {@code windowSeconds} (fewer just after
 * start), so it moves with the pipeline instead of averaging over its whole life.
 *
 * <p>Not thread safe: call {@link #sample(long)} from one thread (the live view's timer).
 */
final class LiveStats {
  private final MeterRegistry registry;
  private final int windowSeconds;
  private final ArrayDeque<Reading> readings = new ArrayDeque<>();

  LiveStats(MeterRegistry registry, int windowSeconds) {
    this.registry = registry;
    this.windowSeconds = windowSeconds;
  }

  /** Takes a reading now and returns the {@code stats} event's JSON. */
  JsonObject sample(long nowNanos) {
    Reading now = read(nowNanos);
    readings.addLast(now);
    while (readings.size() > windowSeconds + 1) {
      readings.removeFirst();
    }
    Reading then = readings.getFirst();
    double seconds = (now.nanos - then.nanos) / 1e9;
    JsonObject json =
        new JsonObject()
            .put("time", System.currentTimeMillis())
            .put("windowSeconds", round(seconds))
            .put("published", (long) now.published)
            .put("received", (long) now.received);
    json.put("predictionsPerSecond", seconds > 0 ? round((now.published - then.published) / seconds) : 0.0);
    json.put("framesPerSecond", seconds > 0 ? round((now.received - then.received) / seconds) : 0.0);
    double batches = now.batchCount - then.batchCount;
    json.put("meanBatchSize", batches > 0 ? round((now.batchTotal - then.batchTotal) / batches) : null);
    double latencies = now.latencyCount - then.latencyCount;
    double[] delta = new double[now.latencyCumulative.length];
    boolean comparable = then.latencyCumulative.length == delta.length;
    for (int i = 0; i < delta.length; i++) {
      delta[i] = now.latencyCumulative[i] - (comparable ? then.latencyCumulative[i] : 0);
    }
    json.put("p50Ms", orNull(BucketQuantiles.quantile(now.latencyBoundsMs, delta, latencies, 0.50)));
    json.put("p99Ms", orNull(BucketQuantiles.quantile(now.latencyBoundsMs, delta, latencies, 0.99)));
    return json;
  }

  private Reading read(long nanos) {
    Counter published = registry.find(GapstreamMetrics.PREDICTIONS_PUBLISHED).counter();
    Counter received = registry.find(GapstreamMetrics.FRAMES_RECEIVED).counter();
    DistributionSummary batch = registry.find(GapstreamMetrics.BATCH_SIZE).summary();
    Timer endToEnd = registry.find(GapstreamMetrics.END_TO_END).timer();
    double[] bounds = new double[0];
    double[] cumulative = new double[0];
    long latencyCount = 0;
    if (endToEnd != null) {
      HistogramSnapshot snapshot = endToEnd.takeSnapshot();
      CountAtBucket[] buckets = snapshot.histogramCounts();
      bounds = new double[buckets.length];
      cumulative = new double[buckets.length];
      for (int i = 0; i < buckets.length; i++) {
        bounds[i] = buckets[i].bucket(TimeUnit.MILLISECONDS);
        cumulative[i] = buckets[i].count();
      }
      latencyCount = snapshot.count();
    }
    return new Reading(
        nanos,
        published == null ? 0 : published.count(),
        received == null ? 0 : received.count(),
        batch == null ? 0 : batch.count(),
        batch == null ? 0 : batch.totalAmount(),
        latencyCount,
        bounds,
        cumulative);
  }

  private static Double orNull(double v) {
    return Double.isNaN(v) ? null : round(v);
  }

  private static double round(double v) {
    return Math.round(v * 100.0) / 100.0;
  }

  private record Reading(
      long nanos,
      double published,
      double received,
      long batchCount,
      double batchTotal,
      long latencyCount,
      double[] latencyBoundsMs,
      double[] latencyCumulative) {}
}
