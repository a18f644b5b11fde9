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
 * @param peakX where the highest cell's receptive field is centred, (j + cellCentre) / width ×
 *     {@code spanX}
 * @param peakY the same down the frame, (i + cellCentre) / height × {@code spanY}
 * @param box [x0, y0, x1, y1]: the cell edges bounding the connected region around the peak,
 *     clamped to the frame
 * @param spanX how much of the frame's width the map's columns span (see {@link
 *     BatchResult#camSpanX()}): 1 where they tile it, above 1 where the last reaches past its edge
 * @param spanY the same for the rows and the frame's height
 * @param cells [x0, y0, x1, y1]: the region's cells, ends exclusive ({@code box} in cells, before
 *     it was placed and clamped)
 * @param cellCentre where in its cell a cell's receptive field is centred, as a fraction of the
 *     cell (0.5: its middle; see {@link ModelSpec#camCellCentre()})
 */
public record ClassActivationMap(
    int classIndex,
    int width,
    int height,
    float[] heatmap,
    float peakX,
    float peakY,
    float[] box,
    float spanX,
    float spanY,
    int[] cells,
    float cellCentre) {

  /** A map whose cells tile the frame, its region the cells {@code box} rounds to. */
  public ClassActivationMap(
      int classIndex, int width, int height, float[] heatmap, float peakX, float peakY, float[] box) {
    this(
        classIndex, width, height, heatmap, peakX, peakY, box, 1f, 1f,
        new int[] {
          Math.round(box[0] * width), Math.round(box[1] * height),
          Math.round(box[2] * width), Math.round(box[3] * height)
        },
        ModelSpec.CELL_MIDDLE);
  }

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
    int x0 = cells[0];
    int y0 = cells[1];
    int x1 = cells[2];
    int y1 = cells[3];
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
