package dev.gapstream.ingest;

import java.awt.image.BufferedImage;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
 * into one row of {@code int}s, which is then summed across into the output row. Weights are
 * measured in the smallest unit the two sizes share, so for the common camera sizes they are small
 * (1920 to 256: whole pixels weigh 2, split ones 1) and each output pixel's sum down a column fits
 * 16 bits: the rows are then added eight bytes at a time, four values in each half of a {@code
 * long}, which is what makes scaling cheap next to decoding (the sum down a column is over every
 * byte of the frame; adding them one at a time took two thirds of the scaling's time). Allocates
 * nothing per call beyond the caller's output array: per thread, it keeps its sums and the weights
 * of the last sizes scaled.
 *
 * <p>Thread-safe: decode workers call it concurrently.
 */
public final class AreaDownscale {

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Eight bytes of a row at once, the first in the lowest bits. */
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** Every other byte of a {@code long}, each in a 16-bit lane of its own. */
  private static final long EVEN_BYTES = 0x00FF00FF00FF00FFL;

  /** A sum of 8-bit values weighing this many units in all fits a 16-bit lane: 257 × 255 = 65535. */
  static final int MAX_LANE_UNITS = 257;

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
    return resized(image, size[0], size[1]);
  }

  /**
   * {@code image} at {@code width}×{@code height}, pixel for pixel as the pipeline resizes a frame
   * for a fixed-size model (for {@code explain}): area-averaged where neither side grows, else
   * bilinear after area averaging the side that shrinks, if one does; {@code image} itself at that
   * size. (A 640x200 frame to 224x224 was filtered bilinearly whole, and came out a mean 84 levels
   * off what the pipeline fed the model.)
   */
  public static BufferedImage resized(BufferedImage image, int width, int height) {
    int sw = image.getWidth();
    int sh = image.getHeight();
    if (width == sw && height == sh) {
      return image;
    }
    byte[] rgb = new byte[3 * sw * sh];
    RgbPixels.copy(image, rgb);
    int aw = Math.min(width, sw);
    int ah = Math.min(height, sh);
    if (aw < sw || ah < sh) {
      byte[] scaled = new byte[3 * aw * ah];
      scale(rgb, sw, sh, scaled, aw, ah);
      rgb = scaled;
    }
    if (aw == width && ah == height) {
      return RgbPixels.image(rgb, width, height);
    }
    return RgbPixels.resize(RgbPixels.bgrImage(rgb, aw, ah), width, height);
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
    int rowBytes = 3 * sw;
    int[] down = s.down(rowBytes);
    boolean inLanes = rows.units <= MAX_LANE_UNITS;
    // Each output pixel's sum is its value times the area it covers, in units² (see Axis).
    long area = (long) rows.units * columns.units;
    for (int y = 0, k = 0; y < dh; y++) {
      // Down first, over whole source rows (contiguous bytes), so that what is left to sum across
      // is one row per output row, not one per source row.
      if (inLanes) {
        sumDownInLanes(src, rowBytes, rows, y, k, s, down);
      } else {
        sumDown(src, rowBytes, rows, y, k, down);
      }
      k += rows.count[y];
      sumAcross(down, columns, dst, 3 * dw * y, dw, area);
    }
  }

  /**
   * Output row {@code y}'s source rows, weighted, summed into {@code down}, eight bytes at a time in
   * 16-bit lanes ({@code rows.units ≤ MAX_LANE_UNITS}, so no lane overflows into the next). {@code
   * k}: the index of the row's first weight.
   */
  private static void sumDownInLanes(byte[] src, int rowBytes, Axis rows, int y, int k, Scratch s, int[] down) {
    int words = rowBytes >>> 3;
    long[] even = s.even(words);
    long[] odd = s.odd(words);
    int offset = rowBytes * rows.first[y];
    for (int r = 0; r < rows.count[y]; r++, offset += rowBytes) {
      long w = rows.weights[k + r];
      for (int j = 0, p = offset; j < words; j++, p += 8) {
        long x = (long) LONGS.get(src, p);
        long e = w * (x & EVEN_BYTES);
        long o = w * ((x >>> 8) & EVEN_BYTES);
        even[j] = r == 0 ? e : even[j] + e;
        odd[j] = r == 0 ? o : odd[j] + o;
      }
    }
    for (int j = 0, i = 0; j < words; j++, i += 8) {
      long e = even[j];
      long o = odd[j];
      down[i] = (int) (e & 0xffff);
      down[i + 1] = (int) (o & 0xffff);
      down[i + 2] = (int) ((e >>> 16) & 0xffff);
      down[i + 3] = (int) ((o >>> 16) & 0xffff);
      down[i + 4] = (int) ((e >>> 32) & 0xffff);
      down[i + 5] = (int) ((o >>> 32) & 0xffff);
      down[i + 6] = (int) (e >>> 48);
      down[i + 7] = (int) (o >>> 48);
    }
    // The bytes after the last whole eight, one at a time.
    for (int i = words << 3; i < rowBytes; i++) {
      int sum = 0;
      for (int r = 0, p = rowBytes * rows.first[y] + i; r < rows.count[y]; r++, p += rowBytes) {
        sum += rows.weights[k + r] * (src[p] & 0xff);
      }
      down[i] = sum;
    }
  }

  /** Output row {@code y}'s source rows, weighted, summed into {@code down} one byte at a time. */
  private static void sumDown(byte[] src, int rowBytes, Axis rows, int y, int k, int[] down) {
    int offset = rowBytes * rows.first[y];
    addRow(src, offset, rows.weights[k], down, rowBytes, true);
    for (int r = 1; r < rows.count[y]; r++) {
      addRow(src, offset + r * rowBytes, rows.weights[k + r], down, rowBytes, false);
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
   * How one axis of {@code n} source pixels maps onto {@code m ≤ n} output pixels. With {@code g}
   * the greatest common divisor of the two, a unit is g/m of a source pixel: output pixel {@code
   * o} spans units {@code [o·n/g, (o+1)·n/g)} and source pixel {@code s} units {@code [s·m/g,
   * (s+1)·m/g)}. So {@code o} covers {@code count[o]} source pixels from {@code first[o]}, each by
   * the units in {@code weights} (m/g for a whole pixel, less for one at its edge), which sum to
   * {@link #units} = n/g. The weights of all output pixels follow one another.
   */
  private static final class Axis {
    final int n;
    final int m;
    final int units;
    final int[] first;
    final int[] count;
    final int[] weights;

    Axis(int n, int m) {
      this.n = n;
      this.m = m;
      int g = gcd(n, m);
      int span = n / g;
      int whole = m / g;
      this.units = span;
      this.first = new int[m];
      this.count = new int[m];
      // A span is n/m pixels long: it touches at most floor(n/m) + 2 of them.
      int[] w = new int[m * (n / m + 2)];
      int k = 0;
      for (int o = 0; o < m; o++) {
        long from = (long) o * span;
        long to = from + span;
        int s0 = (int) (from / whole);
        int s1 = (int) ((to + whole - 1) / whole);
        first[o] = s0;
        count[o] = s1 - s0;
        for (int s = s0; s < s1; s++) {
          w[k++] = (int) (Math.min(to, (long) (s + 1) * whole) - Math.max(from, (long) s * whole));
        }
      }
      this.weights = Arrays.copyOf(w, k);
    }

    private static int gcd(int a, int b) {
      return b == 0 ? a : gcd(b, a % b);
    }
  }

  /** Per thread: the axes of the last sizes scaled, and the sums the source rows add into. */
  private static final class Scratch {
    private Axis columns;
    private Axis rows;
    private int[] down = new int[0];
    private long[] even = new long[0];
    private long[] odd = new long[0];

    long[] even(int words) {
      if (even.length < words) {
        even = new long[words];
      }
      return even;
    }

    long[] odd(int words) {
      if (odd.length < words) {
        odd = new long[words];
      }
      return odd;
    }

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
