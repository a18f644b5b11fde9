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

  /** The map quantised to 8 bits for publishing. */
  public QuantizedHeatmap quantized() {
    return QuantizedHeatmap.of(heatmap, width, height);
  }
}
