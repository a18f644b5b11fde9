package dev.gapstream.ingest;

/**
 * What the decoder accepts.
 *
 * @param maxFrameBytes the largest encoded frame, in bytes ({@code ingest.max.frame.bytes})
 * @param maxPixels the largest width x height, checked from the header ({@code ingest.max.pixels})
 * @param minWidth the model's smallest input width, for any-size models
 * @param minHeight the model's smallest input height, for any-size models
 * @param fixedWidth the model's input width when it takes one size only, else 0
 * @param fixedHeight the model's input height when it takes one size only, else 0
 * @param maxSide the longest side a frame runs at, for any-size models: longer frames are scaled
 *     down to it ({@code ingest.resize.max.side}); 0 runs every frame at its own size
 */
public record DecodeLimits(
    long maxFrameBytes,
    long maxPixels,
    int minWidth,
    int minHeight,
    int fixedWidth,
    int fixedHeight,
    int maxSide) {

  /**
   * The most {@code maxPixels} may be ({@code ingest.max.pixels}): a frame's RGB bytes, 3 a pixel,
   * are counted in an int and held in one array, which 512 Mi pixels (1.5 GiB) leave room for.
   */
  public static final long MAX_PIXELS = 1L << 29;

  public DecodeLimits {
    if (maxPixels < 1 || maxPixels > MAX_PIXELS) {
      throw new IllegalArgumentException("maxPixels " + maxPixels + " is out of range [1, " + MAX_PIXELS + "]");
    }
  }

  /** Limits that run every frame at its own size (or the fixed size of a fixed-size model). */
  public DecodeLimits(
      long maxFrameBytes, long maxPixels, int minWidth, int minHeight, int fixedWidth, int fixedHeight) {
    this(maxFrameBytes, maxPixels, minWidth, minHeight, fixedWidth, fixedHeight, 0);
  }
}
