package dev.gapstream.synth;

/**
 * An axis-aligned pixel rectangle: columns {@code x0..x1-1}, rows {@code y0..y1-1} (the upper
 * bounds are exclusive, so {@code x1 - x0} is the width).
 */
public record Box(int x0, int y0, int x1, int y1) {

  public Box {
    if (x1 < x0 || y1 < y0) {
      throw new IllegalArgumentException("inverted box: " + x0 + "," + y0 + "," + x1 + "," + y1);
    }
  }

  /** Whether pixel {@code (x, y)} lies inside. */
  public boolean contains(int x, int y) {
    return x >= x0 && x < x1 && y >= y0 && y < y1;
  }

  /** Whether the point {@code (x, y)}, in pixel units with pixel centres at +0.5, lies inside. */
  public boolean contains(double x, double y) {
    return x >= x0 && x < x1 && y >= y0 && y < y1;
  }

  public int width() {
    return x1 - x0;
  }

  public int height() {
    return y1 - y0;
  }
}
