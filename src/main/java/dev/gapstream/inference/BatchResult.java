package dev.gapstream.inference;

/**
 * The outputs of one batch, copied out of ONNX Runtime's buffers so they outlive the run. Immutable
 * by convention: the arrays are shared, not copied, for speed; callers must not write to them.
 * Thread-safe.
 *
 * <p>Class activation maps come one of two ways, and {@link #cam(int, int)} (or {@link
 * CamExtractor#fromBatch}) reads either: a class-maps model returns every class's map from the
 * graph ({@code cams}, used in place); a GAP→linear model returns its pre-GAP features ({@code
 * features}), and a class's map is computed only when asked for.
 *
 * @param size images in the batch
 * @param classes logits per image
 * @param logits [size × classes], row-major
 * @param cams class maps [size × classes × camHeight × camWidth] from the model's class-map output,
 *     or null when the model has none
 * @param camHeight map height in cells; 0 when the batch has no CAMs
 * @param camWidth map width in cells; 0 when the batch has no CAMs
 * @param nonFinite per image: true when any of its logits is NaN or infinite (the pipeline
 *     dead-letters such frames with reason {@code inference-error})
 * @param features pre-GAP features and classifier weights of a GAP→linear model, or null
 * @param camSpanX how much of the frame's width the maps' columns span: 1 where they tile it
 *     exactly; above 1 where the frame's width is not a multiple of the model's stride and the
 *     last column, one stride wide like the others, reaches past the frame's edge (e.g. 32 columns
 *     of 8 pixels over a 250-pixel frame: 256/250)
 * @param camSpanY the same for the maps' rows and the frame's height
 */
public record BatchResult(
    int size,
    int classes,
    float[] logits,
    float[] cams,
    int camHeight,
    int camWidth,
    boolean[] nonFinite,
    CamFeatures features,
    float camSpanX,
    float camSpanY) {

  /** A batch whose maps, if any, are the model's class-map output, tiling the frame. */
  public BatchResult(
      int size,
      int classes,
      float[] logits,
      float[] cams,
      int camHeight,
      int camWidth,
      boolean[] nonFinite) {
    this(size, classes, logits, cams, camHeight, camWidth, nonFinite, null, 1f, 1f);
  }

  /** The logits of image {@code i}, copied. */
  public float[] logits(int i) {
    float[] out = new float[classes];
    System.arraycopy(logits, i * classes, out, 0, classes);
    return out;
  }

  /** Whether image {@code i} has only finite logits. */
  public boolean isFinite(int i) {
    return !nonFinite[i];
  }

  /** True when the batch carries class maps, stored or computable from features. */
  public boolean hasCams() {
    return cams != null || features != null;
  }

  /**
   * The map of class {@code c} for image {@code i}: a new {@code camHeight × camWidth} array,
   * row-major. For a GAP→linear model this is where the map is computed (K·h·w multiply-adds).
   *
   * @throws IllegalStateException when the batch has no CAMs
   */
  public float[] cam(int i, int c) {
    if (features != null) {
      return features.map(i, c);
    }
    if (cams == null) {
      throw new IllegalStateException("batch has no class maps");
    }
    int cells = camHeight * camWidth;
    float[] out = new float[cells];
    System.arraycopy(cams, camOffset(i, c), out, 0, cells);
    return out;
  }

  /**
   * All class maps, [size × classes × camHeight × camWidth], or null without CAMs. For a GAP→linear
   * model the first call computes every class's map (classes·K·h·w multiply-adds per image, e.g.
   * 25M for ResNet-18): prefer {@link #cam(int, int)}.
   */
  @Override
  public float[] cams() {
    return cams == null && features != null ? features.allMaps(size) : cams;
  }

  /** Offset in {@link #cams()} of image {@code i}'s map for class {@code c}. */
  public int camOffset(int i, int c) {
    return (i * classes + c) * camHeight * camWidth;
  }
}
