package dev.gapstream.ingest;

/**
 * A decoded frame: 8-bit RGB pixels, interleaved, row-major ({@code rgb[3 * (y * width + x) + c]}).
 * Kept as bytes, not floats, so frames waiting for a batch cost a quarter of the memory;
 * normalisation happens once, straight into the batch tensor.
 */
public record DecodedFrame(int width, int height, byte[] rgb) {

  public DecodedFrame {
    if (rgb.length != 3 * width * height) {
      throw new IllegalArgumentException(
          "rgb holds " + rgb.length + " bytes, not 3 x " + width + " x " + height);
    }
  }

  public long pixels() {
    return (long) width * height;
  }
}
