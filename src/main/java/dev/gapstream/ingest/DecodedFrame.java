package dev.gapstream.ingest;

/**
 * A decoded frame: 8-bit RGB pixels, interleaved, row-major ({@code rgb[3 * (y * width + x) + c]}).
 * Kept as bytes, not floats, so frames waiting for a batch cost a quarter of the memory;
 * normalisation happens once, straight into the batch tensor.
 *
 * <p>The decoder's pixels come from its {@link PixelBuffers}: once they are in a batch tensor,
 * {@link #release()} hands them back for a later frame, and nothing may read them after that.
 */
public final class DecodedFrame {

  private final int width;
  private final int height;
  private final byte[] rgb;
  private final PixelBuffers owner;

  /** Pixels that belong to no pool (release does nothing). */
  public DecodedFrame(int width, int height, byte[] rgb) {
    this(width, height, rgb, null);
  }

  DecodedFrame(int width, int height, byte[] rgb, PixelBuffers owner) {
    if (rgb.length != 3 * width * height) {
      throw new IllegalArgumentException(
          "rgb holds " + rgb.length + " bytes, not 3 x " + width + " x " + height);
    }
    this.width = width;
    this.height = height;
    this.rgb = rgb;
    this.owner = owner;
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public byte[] rgb() {
    return rgb;
  }

  public long pixels() {
    return (long) width * height;
  }

  /** Hands the pixels back to the pool they were taken from, if any. Call once, then drop the frame. */
  public void release() {
    if (owner != null) {
      owner.giveBack(rgb);
    }
  }

  @Override
  public String toString() {
    return "DecodedFrame[" + width + "x" + height + (owner != null ? ", pooled]" : "]");
  }
}
