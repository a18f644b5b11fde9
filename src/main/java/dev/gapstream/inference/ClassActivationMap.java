package dev.gapstream.inference;

/**
 * The localisation of one class in one image, from its class activation map. Coordinates are
 * fractions of the frame's width (x) and height (y) in [0, 1], origin top-left, so they hold for
 * any input resolution. Immutable by convention: arrays are not copied; do not modify them.
 *
 * @param classIndex the class the map is for
 * @param width map width in cells
 * @param height map height in cells
 * @param heatmap the raw map, row-major, {@code height × width}
 * @param peakX centre of the highest cell, (j + 0.5) / width
 * @param peakY centre of the highest cell, (i + 0.5) / height
 * @param box [x0, y0, x1, y1]: the cell edges bounding the connected region around the peak
 */
public record ClassActivationMap(
    int classIndex, int width, int height, float[] heatmap, float peakX, float peakY, float[] box) {

  /**
   * The share of the map's heat, measured above its minimum, that lies in the cells of {@link
   * #box()}: near 1 for a compact detection, falling as the heat spreads over the frame. 1 for a
   * flat map.
   */
  public double heatInBox() {
    float min = Float.POSITIVE_INFINITY;
    for (float v : heatmap) {
      min = Math.min(min, v);
    }
    int x0 = Math.round(box[0] * width);
    int y0 = Math.round(box[1] * height);
    int x1 = Math.round(box[2] * width);
    int y1 = Math.round(box[3] * height);
    double total = 0;
    double inside = 0;
    for (int i = 0; i < height; i++) {
      for (int j = 0; j < width; j++) {
        double heat = heatmap[i * width + j] - min;
        total += heat;
        if (i >= y0 && i < y1 && j >= x0 && j < x1) {
          inside += heat;
        }
      }
    }
    return total <= 0 ? 1.0 : inside / total;
  }

  /** The map quantised to 8 bits for publishing. */
  public QuantizedHeatmap quantized() {
    return QuantizedHeatmap.of(heatmap, width, height);
  }
}
