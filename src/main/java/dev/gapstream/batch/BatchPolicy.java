package dev.gapstream.batch;

import java.time.Duration;

/**
 * When a batch closes: at {@code maxSize} items, at the most items of its shape that fit in {@code
 * maxPixels}, or {@code maxDelay} after its first item arrived, whichever comes first. And how a
 * closed batch runs: in runs of at most {@code runPixels} each, one after another on its slot.
 *
 * @param maxSize the largest batch, at least 1
 * @param maxPixels the most pixels (width × height, summed over its items) a batch holds, at least
 *     1; an item larger than this still runs, alone
 * @param maxDelayNanos how long the first item of a batch may wait for company, at least 0
 * @param runPixels the most pixels of a batch one run of the model takes, at least 1; {@link
 *     #ANY_PIXELS} for the whole batch in one run
 */
public record BatchPolicy(int maxSize, long maxPixels, long maxDelayNanos, long runPixels) {

  /** No bound on a batch's pixels: {@link #maxSize()} alone limits it. */
  public static final long ANY_PIXELS = Long.MAX_VALUE;

  public BatchPolicy {
    if (maxSize < 1) {
      throw new IllegalArgumentException("maxSize must be at least 1, was " + maxSize);
    }
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels must be at least 1, was " + maxPixels);
    }
    if (maxDelayNanos < 0) {
      throw new IllegalArgumentException("maxDelayNanos must not be negative, was " + maxDelayNanos);
    }
    if (runPixels < 1) {
      throw new IllegalArgumentException("runPixels must be at least 1, was " + runPixels);
    }
  }

  /** A policy that runs each batch whole. */
  public BatchPolicy(int maxSize, long maxPixels, long maxDelayNanos) {
    this(maxSize, maxPixels, maxDelayNanos, ANY_PIXELS);
  }

  /** A policy bounded by item count and delay only. */
  public static BatchPolicy of(int maxSize, Duration maxDelay) {
    return new BatchPolicy(maxSize, ANY_PIXELS, maxDelay.toNanos());
  }

  /**
   * The largest batch of items of {@code pixelsPerItem} pixels each: {@link #maxSize()}, fewer where
   * they would pass {@link #maxPixels()}, and never fewer than one. Unknown sizes (0) get {@code
   * maxSize}.
   */
  public int maxSizeFor(long pixelsPerItem) {
    if (pixelsPerItem <= 0) {
      return maxSize;
    }
    return (int) Math.max(1, Math.min(maxSize, maxPixels / pixelsPerItem));
  }

  /**
   * The most items of {@code pixelsPerItem} pixels each that one run takes: as many as fit in {@link
   * #runPixels()}, never more than {@link #maxSizeFor} and never fewer than one.
   */
  public int runSizeFor(long pixelsPerItem) {
    int batch = maxSizeFor(pixelsPerItem);
    if (pixelsPerItem <= 0) {
      return batch;
    }
    return (int) Math.max(1, Math.min(batch, runPixels / pixelsPerItem));
  }

  /** This policy with runs of at most {@code pixels}. */
  public BatchPolicy withRunPixels(long pixels) {
    return new BatchPolicy(maxSize, maxPixels, maxDelayNanos, pixels);
  }
}
