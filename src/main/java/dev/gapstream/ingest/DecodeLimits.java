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
 */
public record DecodeLimits(
    long maxFrameBytes, long maxPixels, int minWidth, int minHeight, int fixedWidth, int fixedHeight) {}
