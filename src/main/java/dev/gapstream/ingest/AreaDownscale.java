package dev.gapstream.ingest;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * Scales interleaved 8-bit RGB pixels down by area averaging: each output pixel is the mean of the
 * source pixels its area covers, a pixel at its edges weighted by the part of it that it covers
 * (OpenCV's {@code INTER_AREA}, Pillow's {@code BOX}). A CNN fed a downscaled frame should see what
 * a coarser camera would have seen: bilinear filtering reads four source pixels per output pixel
 * whatever the factor, so from a factor of 3 it skips most of the frame, and fine texture (sensor
 * noise, stripes) turns into patterns the model never saw in training.
 *
 * <p>Exact integer arithmetic. Separable: the source rows an output row covers are added, weighted,
 * into one row of {@code int}s, which is then summed across into the output row. Allocates nothing
 * per call beyond the caller's output array: per thread, it keeps that row and the weights of the
 * last sizes scaled.
 *
 * <p>Thread-safe: decode workers call it concurrently.
 */
public final class AreaDownscale {

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private AreaDownscale() {}

  /**
   * The size a {@code width}×{@code height} frame is scaled to so that its longer side is at most
   * {@code maxSide}, its aspect ratio kept (the shorter side rounded, at least 1); the frame's own
   * size when it fits already.
   *
   * @return {width, height}
   */
  static int[] fit(int width, int height, int maxSide) {
    int longer = Math.max(width, height);
    if (longer <= maxSide) {
      return new int[] {width, height};
    }
    double scale = (double) maxSide / longer;
    int w = width >= height ? maxSide : (int) Math.max(1, Math.round(width * scale));
    int h = height >= width ? maxSide : (int) Math.max(1, Math.round(height * scale));
    return new int[] {w, h};
  }

  /**
   * {@code image} with its longer side at most {@code maxSide}, scaled as the pipeline scales a
   * frame (for tools that show one frame: {@code explain}); {@code image} itself when it fits.
   */
  public static BufferedImage fitted(BufferedImage image, int maxSide) {
    int[] size = fit(image.getWidth(), image.getHeight(), maxSide);
    if (size[0] == image.getWidth() && size[1] == image.getHeight()) {
      return image;
    }
    byte[] rgb = new byte[3 * image.getWidth() * image.getHeight()];
    RgbPixels.copy(image, rgb);
    byte[] scaled = new byte[3 * size[0] * size[1]];
    scale(rgb, image.getWidth(), image.getHeight(), scaled, size[0], size[1]);
    return RgbPixels.image(scaled, size[0], size[1]);
  }

  /**
   * Writes {@code src} ({@code sw}×{@code sh}) scaled to {@code dw}×{@code dh} into {@code dst}.
   * Neither output side may be larger than the source's.
   */
  static void scale(byte[] src, int sw, int sh, byte[] dst, int dw, int dh) {
    if (dw <= 0 || dh <= 0 || dw > sw || dh > sh) {
      throw new IllegalArgumentException("cannot downscale " + sw + "x" + sh + " to " + dw + "x" + dh);
    }
    if (src.length < 3 * sw * sh || dst.length < 3 * dw * dh) {
      throw new IllegalArgumentException(
          "pixel arrays too short to scale " + sw + "x" + sh + " to " + dw + "x" + dh);
    }
    Scratch s = SCRATCH.get();
    Axis columns = s.columns(sw, dw);
    Axis rows = s.rows(sh, dh);
    int[] down = s.down(3 * sw);
    int rowBytes = 3 * sw;
    // Each output pixel sums sw·sh units: its value times the area it covers, measured in 1/dw of
    // a source pixel across and 1/dh down.
    long area = (long) sw * sh;
    for (int y = 0, k = 0; y < dh; y++) {
      // Down first, over whole source rows (a plain loop over contiguous bytes), so that what is
      // left to sum across is one row per output row, not one per source row.
      int sy = rows.first[y];
      addRow(src, rowBytes * sy, rows.weights[k++], down, rowBytes, true);
      for (int end = k - 1 + rows.count[y]; k < end; k++) {
        addRow(src, rowBytes * ++sy, rows.weights[k], down, rowBytes, false);
      }
      sumAcross(down, columns, dst, 3 * dw * y, dw, area);
    }
  }

  /** {@code down[i] (+)= weight · src[offset + i]} over one row of {@code length} bytes. */
  private static void addRow(byte[] src, int offset, int weight, int[] down, int length, boolean first) {
    if (first) {
      for (int i = 0; i < length; i++) {
        down[i] = weight * (src[offset + i] & 0xff);
      }
    } else {
      for (int i = 0; i < length; i++) {
        down[i] += weight * (src[offset + i] & 0xff);
      }
    }
  }

  /**
   * The row of sums {@code down} summed across into {@code dw} output pixels, each divided by the
   * {@code area} it covers (rounded to the nearest), written to {@code dst} from {@code out}.
   */
  private static void sumAcross(int[] down, Axis columns, byte[] dst, int out, int dw, long area) {
    int[] first = columns.first;
    int[] count = columns.count;
    int[] weights = columns.weights;
    double perUnit = 1.0 / area; // a multiply per value, not a 64-bit division
    for (int x = 0, k = 0; x < dw; x++) {
      long r = 0;
      long g = 0;
      long b = 0;
      int p = 3 * first[x];
      for (int end = k + count[x]; k < end; k++, p += 3) {
        long w = weights[k];
        r += w * down[p];
        g += w * down[p + 1];
        b += w * down[p + 2];
      }
      dst[out + 3 * x] = (byte) (int) (r * perUnit + 0.5);
      dst[out + 3 * x + 1] = (byte) (int) (g * perUnit + 0.5);
      dst[out + 3 * x + 2] = (byte) (int) (b * perUnit + 0.5);
    }
  }

  /**
   * How one axis of {@code n} source pixels maps onto {@code m ≤ n} output pixels. Measured in
   * 1/m of a source pixel, output pixel {@code o} spans {@code [o·n, (o+1)·n)} and source pixel
   * {@code s} spans {@code [s·m, (s+1)·m)}: {@code o} covers {@code count[o]} source pixels from
   * {@code first[o]}, each by the length in {@code weights} (m for a whole pixel, less for a pixel
   * at its edge; they sum to n). The weights of all output pixels follow one another.
   */
  private static final class Axis {
    final int n;
    final int m;
    final int[] first;
    final int[] count;
    final int[] weights;

    Axis(int n, int m) {
      this.n = n;
      this.m = m;
      this.first = new int[m];
      this.count = new int[m];
      // A span is n/m pixels long: it touches at most floor(n/m) + 2 of them.
      int[] w = new int[m * (n / m + 2)];
      int k = 0;
      for (int o = 0; o < m; o++) {
        long from = (long) o * n;
        long to = from + n;
        int s0 = (int) (from / m);
        int s1 = (int) ((to + m - 1) / m);
        first[o] = s0;
        count[o] = s1 - s0;
        for (int s = s0; s < s1; s++) {
          w[k++] = (int) (Math.min(to, (long) (s + 1) * m) - Math.max(from, (long) s * m));
        }
      }
      this.weights = Arrays.copyOf(w, k);
    }
  }

  /** Per thread: the axes of the last sizes scaled, and the row the source rows add into. */
  private static final class Scratch {
    private Axis columns;
    private Axis rows;
    private int[] down = new int[0];

    Axis columns(int n, int m) {
      if (columns == null || columns.n != n || columns.m != m) {
        columns = new Axis(n, m);
      }
      return columns;
    }

    Axis rows(int n, int m) {
      if (rows == null || rows.n != n || rows.m != m) {
        rows = new Axis(n, m);
      }
      return rows;
    }

    int[] down(int length) {
      if (down.length < length) {
        down = new int[length];
      }
      return down;
    }
  }
}
