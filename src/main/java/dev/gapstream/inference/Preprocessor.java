package dev.gapstream.inference;

import java.nio.FloatBuffer;

/**
 * Turns decoded pixels into one image's normalised CHW floats, following a {@link ModelSpec}: value
 * = (pixel / pixelScale − mean[c]) / std[c], planes in the spec's channel order.
 *
 * <p>Thread-safe: inference workers share one instance. It allocates nothing per call (a small
 * scratch array per thread is reused); the per-channel arithmetic is folded into a 3×256 lookup
 * table at construction, since 8-bit pixels have only 256 values per channel.
 */
public final class Preprocessor {
  /** Pixels per chunk of {@link #toChw(byte[], int, int, FloatBuffer)}: three planes of it fit in L1. */
  private static final int CHUNK = 1024;

  /** lut[c * 256 + v]: the normalised value of 8-bit value v in output plane c. */
  private final float[] lut = new float[3 * 256];

  /** Bit shift, within 0xRRGGBB, of the colour that goes to output plane c. */
  private final int[] shift = new int[3];

  /** Per thread: one chunk of the three output planes, before it is copied into the tensor. */
  private final ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[3 * CHUNK]);

  public Preprocessor(ModelSpec spec) {
    float[] mean = spec.mean();
    float[] std = spec.std();
    for (int c = 0; c < 3; c++) {
      double scale = 1.0 / (spec.pixelScale() * std[c]);
      double offset = -mean[c] / std[c];
      for (int v = 0; v < 256; v++) {
        lut[c * 256 + v] = (float) (v * scale + offset);
      }
      int rgbIndex = spec.channelOrder() == ChannelOrder.RGB ? c : 2 - c;
      shift[c] = 16 - 8 * rgbIndex;
    }
  }

  /** Floats one image of {@code width}×{@code height} takes in a batch tensor. */
  public static int floatsPerImage(int width, int height) {
    return 3 * width * height;
  }

  /**
   * Writes the image given as packed ARGB ints (as {@code BufferedImage.getRGB} returns them,
   * row-major; alpha is ignored) into {@code dst} at its position, and advances the position by
   * {@link #floatsPerImage}.
   *
   * @throws IllegalArgumentException when {@code argb} is shorter than width×height
   * @throws java.nio.BufferOverflowException when {@code dst} has too little room left
   */
  public void toChw(int[] argb, int width, int height, FloatBuffer dst) {
    int plane = checkAndPlane(argb.length, width, height, dst);
    int base = dst.position();
    for (int c = 0; c < 3; c++) {
      int s = shift[c];
      int lutBase = c * 256;
      int out = base + c * plane;
      for (int i = 0; i < plane; i++) {
        dst.put(out + i, lut[lutBase + ((argb[i] >>> s) & 0xff)]);
      }
    }
    dst.position(base + 3 * plane);
  }

  /**
   * Writes the image given as interleaved 8-bit RGB bytes (3 per pixel, row-major; the layout of
   * {@code image/x-raw-rgb} frames) into {@code dst} at its position, and advances the position.
   *
   * @throws IllegalArgumentException when {@code rgb} is shorter than 3·width·height
   * @throws java.nio.BufferOverflowException when {@code dst} has too little room left
   */
  public void toChw(byte[] rgb, int width, int height, FloatBuffer dst) {
    int plane = checkAndPlane(rgb.length / 3, width, height, dst);
    int base = dst.position();
    // Byte offset, within a pixel, of each output plane's colour.
    int s0 = (16 - shift[0]) / 8;
    int s1 = (16 - shift[1]) / 8;
    int s2 = (16 - shift[2]) / 8;
    float[] rows = scratch.get();
    // One pass over the pixels; each chunk's three planes go into the tensor in bulk (a memory
    // copy into the direct buffer, not a bounds-checked put per float).
    for (int start = 0; start < plane; start += CHUNK) {
      int n = Math.min(CHUNK, plane - start);
      int p = 3 * start;
      for (int i = 0; i < n; i++, p += 3) {
        rows[i] = lut[rgb[p + s0] & 0xff];
        rows[CHUNK + i] = lut[256 + (rgb[p + s1] & 0xff)];
        rows[2 * CHUNK + i] = lut[512 + (rgb[p + s2] & 0xff)];
      }
      dst.put(base + start, rows, 0, n);
      dst.put(base + plane + start, rows, CHUNK, n);
      dst.put(base + 2 * plane + start, rows, 2 * CHUNK, n);
    }
    dst.position(base + 3 * plane);
  }

  private static int checkAndPlane(int pixels, int width, int height, FloatBuffer dst) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("bad image size " + width + "x" + height);
    }
    int plane = Math.multiplyExact(width, height);
    if (pixels < plane) {
      throw new IllegalArgumentException(
          "pixel data holds " + pixels + " pixels, " + width + "x" + height + " needs " + plane);
    }
    if (dst.remaining() < 3 * plane) {
      throw new java.nio.BufferOverflowException();
    }
    return plane;
  }
}
