package dev.gapstream.inference;

/**
 * Class activation maps to localisations (Zhou et al. 2016): the peak and a box around it. For a
 * class-maps head the map is read from the model's class-map output; for a GAP→linear head it is
 * Σ_k w_ck·f_k over the pre-GAP features ({@link #weightedSum}). Stateless and thread-safe;
 * allocates only the returned values and a per-call visit mask.
 */
public final class CamExtractor {
  /** Cells at or above this fraction of the peak (above the map's minimum) belong to the box. */
  public static final float DEFAULT_THRESHOLD = 0.5f;

  private CamExtractor() {}

  /**
   * The localisation of class {@code classIndex} in image {@code image} of a batch that has CAMs,
   * whichever way the batch carries them (see {@link BatchResult#cam(int, int)}).
   *
   * @throws IllegalArgumentException when the batch has no CAMs
   */
  public static ClassActivationMap fromBatch(
      BatchResult result, int image, int classIndex, float threshold) {
    return fromBatch(result, image, classIndex, threshold, ModelSpec.CELL_MIDDLE);
  }

  /** As {@link #fromBatch(BatchResult, int, int, float)}, for maps whose cells are centred {@code cellCentre} in. */
  public static ClassActivationMap fromBatch(
      BatchResult result, int image, int classIndex, float threshold, float cellCentre) {
    if (!result.hasCams()) {
      throw new IllegalArgumentException("batch has no class maps");
    }
    return localise(
        result.cam(image, classIndex),
        result.camHeight(),
        result.camWidth(),
        classIndex,
        threshold,
        cellCentre,
        result.camSpanX(),
        result.camSpanY());
  }

  /**
   * Localises one {@code height × width} map found at {@code maps[offset]}, row-major.
   *
   * @param threshold in [0, 1]: a cell joins the box when (v − min) ≥ threshold·(peak − min);
   *     subtracting the minimum makes maps with negative values work
   */
  public static ClassActivationMap extract(
      float[] maps, int offset, int height, int width, int classIndex, float threshold) {
    return extract(maps, offset, height, width, classIndex, threshold, ModelSpec.CELL_MIDDLE);
  }

  /**
   * As {@link #extract(float[], int, int, int, int, float)}, with cell j's receptive field centred
   * {@code cellCentre} of a cell into it (see {@link ModelSpec#camCellCentre()}): the peak is placed
   * at (j + cellCentre) / width, and box edges move with it.
   */
  public static ClassActivationMap extract(
      float[] maps,
      int offset,
      int height,
      int width,
      int classIndex,
      float threshold,
      float cellCentre) {
    int cells = height * width;
    float[] heat = new float[cells];
    System.arraycopy(maps, offset, heat, 0, cells);
    return localise(heat, height, width, classIndex, threshold, cellCentre, 1f, 1f);
  }

  /**
   * As {@link #extract}, for a map the caller hands over ({@code heat} is kept, not copied) whose
   * grid spans {@code spanX} of the frame's width and {@code spanY} of its height (see {@link
   * BatchResult#camSpanX()}): a cell's place in the grid, as a fraction, times the span is its
   * place in the frame.
   */
  static ClassActivationMap localise(
      float[] heat,
      int height,
      int width,
      int classIndex,
      float threshold,
      float cellCentre,
      float spanX,
      float spanY) {
    int cells = height * width;
    int peak = Scores.argmax(heat, 0, cells);
    float min = heat[0];
    for (float v : heat) {
      min = Math.min(min, v);
    }
    float cut = min + threshold * (heat[peak] - min);
    int[] bounds = region(heat, width, height, peak, cut);
    float shift = cellCentre - ModelSpec.CELL_MIDDLE; // cells are one wide around their centre
    // The outermost cells own the frame up to its edges: a box on the grid's first column reaches
    // the left edge, one on its last the right, whatever the cells' centre and the grid's span (a
    // centre off the cell's middle left the first or last pixels of every frame to no cell, and a
    // grid short of the frame its last ones).
    float[] box = {
      bounds[0] == 0 ? 0f : clamp((bounds[0] + shift) / width * spanX),
      bounds[1] == 0 ? 0f : clamp((bounds[1] + shift) / height * spanY),
      bounds[2] == width - 1 ? 1f : clamp((bounds[2] + 1 + shift) / width * spanX),
      bounds[3] == height - 1 ? 1f : clamp((bounds[3] + 1 + shift) / height * spanY)
    };
    int pi = peak / width;
    int pj = peak % width;
    return new ClassActivationMap(
        classIndex,
        width,
        height,
        heat,
        clamp((pj + cellCentre) / width * spanX),
        clamp((pi + cellCentre) / height * spanY),
        box,
        spanX,
        spanY,
        new int[] {bounds[0], bounds[1], bounds[2] + 1, bounds[3] + 1},
        cellCentre);
  }

  /**
   * Σ_k w_k·f_k: the class activation map of a GAP→linear head, from pre-GAP features {@code [K ×
   * height × width]} at {@code features[offset]} and the class's weight row {@code w} (length K;
   * see {@link GapHead#classWeights}). The bias is left out: it shifts the map, not its shape.
   */
  public static float[] weightedSum(
      float[] features, int offset, int channels, int height, int width, float[] w) {
    if (w.length != channels) {
      throw new IllegalArgumentException(w.length + " weights for " + channels + " channels");
    }
    int cells = height * width;
    float[] out = new float[cells];
    for (int k = 0; k < channels; k++) {
      float wk = w[k];
      int base = offset + k * cells;
      for (int i = 0; i < cells; i++) {
        out[i] += wk * features[base + i];
      }
    }
    return out;
  }

  /** [j0, i0, j1, i1] (inclusive cells) of the 4-connected cells ≥ cut containing the peak. */
  private static int[] region(float[] heat, int width, int height, int peak, float cut) {
    boolean[] seen = new boolean[heat.length];
    int[] stack = new int[heat.length];
    int top = 0;
    stack[top++] = peak;
    seen[peak] = true;
    int[] b = {peak % width, peak / width, peak % width, peak / width};
    while (top > 0) {
      int cell = stack[--top];
      int i = cell / width;
      int j = cell % width;
      b[0] = Math.min(b[0], j);
      b[1] = Math.min(b[1], i);
      b[2] = Math.max(b[2], j);
      b[3] = Math.max(b[3], i);
      top = push(heat, seen, stack, top, i > 0 ? cell - width : -1, cut);
      top = push(heat, seen, stack, top, i < height - 1 ? cell + width : -1, cut);
      top = push(heat, seen, stack, top, j > 0 ? cell - 1 : -1, cut);
      top = push(heat, seen, stack, top, j < width - 1 ? cell + 1 : -1, cut);
    }
    return b;
  }

  private static int push(float[] heat, boolean[] seen, int[] stack, int top, int cell, float cut) {
    if (cell >= 0 && !seen[cell] && heat[cell] >= cut) {
      seen[cell] = true;
      stack[top++] = cell;
    }
    return top;
  }

  private static float clamp(float v) {
    return Math.max(0f, Math.min(1f, v));
  }
}
