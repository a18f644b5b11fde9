package dev.gapstream.batch;

import java.time.Duration;

/**
 * When a batch closes: at {@code maxSize} items, or {@code maxDelay} after its first item arrived,
 * whichever comes first.
 *
 * @param maxSize the largest batch, at least 1
 * @param maxDelayNanos how long the first item of a batch may wait for company, at least 0
 */
public record BatchPolicy(int maxSize, long maxDelayNanos) {

  public BatchPolicy {
    if (maxSize < 1) {
      throw new IllegalArgumentException("maxSize must be at least 1, was " + maxSize);
    }
    if (maxDelayNanos < 0) {
      throw new IllegalArgumentException("maxDelayNanos must not be negative, was " + maxDelayNanos);
    }
  }

  public static BatchPolicy of(int maxSize, Duration maxDelay) {
    return new BatchPolicy(maxSize, maxDelay.toNanos());
  }
}
