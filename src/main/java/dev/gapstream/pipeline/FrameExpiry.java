package dev.gapstream.pipeline;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which frames are too old to classify ({@code ingest.max.frame.age.ms}), by their record's
 * timestamp, and a log line about them at most every {@link #LOG_EVERY_MS}: a pipeline far behind
 * a live camera can skip thousands a second, and a line each would bury the log.
 *
 * <p>Confined to the event loop; not thread-safe.
 */
final class FrameExpiry {

  private static final Logger LOG = LoggerFactory.getLogger(FrameExpiry.class);
  static final long LOG_EVERY_MS = 10_000;

  private final long maxAgeMs;
  private long skippedSinceLog;
  private long oldestSinceLogMs;
  private long loggedAtMs = Long.MIN_VALUE;

  /** @param maxAgeMs the oldest a frame may be when its turn to decode comes; 0 for no limit */
  FrameExpiry(long maxAgeMs) {
    this.maxAgeMs = maxAgeMs;
  }

  /** Whether frames expire at all ({@code ingest.max.frame.age.ms} above 0). */
  boolean enabled() {
    return maxAgeMs > 0;
  }

  /**
   * How old a frame with record timestamp {@code timestampMs} is at {@code nowMs} when that is over
   * the limit, else -1 (always -1 without a limit, and for a record without a timestamp).
   */
  long ageIfExpired(long timestampMs, long nowMs) {
    if (maxAgeMs <= 0 || timestampMs < 0) {
      return -1;
    }
    long age = nowMs - timestampMs;
    return age > maxAgeMs ? age : -1;
  }

  /** The dead letter's {@code dlq-error}. */
  String error(long ageMs) {
    return "the frame was " + ageMs + " ms old when its turn came, over ingest.max.frame.age.ms="
        + maxAgeMs + ": skipped unclassified";
  }

  /** Counts one skipped frame, and logs what was skipped once {@link #LOG_EVERY_MS} has passed. */
  void skipped(String source, long ageMs, long nowMs) {
    skippedSinceLog++;
    oldestSinceLogMs = Math.max(oldestSinceLogMs, ageMs);
    if (loggedAtMs == Long.MIN_VALUE || nowMs - loggedAtMs >= LOG_EVERY_MS) {
      LOG.warn(
          "Skipped {} frame(s) older than ingest.max.frame.age.ms={} {}(the oldest {} ms old; the latest {}):"
              + " dead-lettered as expired without their bytes",
          skippedSinceLog,
          maxAgeMs,
          loggedAtMs == Long.MIN_VALUE ? "" : "in the last " + (nowMs - loggedAtMs) / 1000 + " s ",
          oldestSinceLogMs,
          source);
      skippedSinceLog = 0;
      oldestSinceLogMs = 0;
      loggedAtMs = nowMs;
    }
  }
}
