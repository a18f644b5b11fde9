package dev.gapstream.inference;

/**
 * The outputs of one batch, copied out of ONNX Runtime's buffers so they outlive the run. Immutable
 * by convention: the arrays are shared, not copied, for speed; callers must not write to them.
 *
 * @param size images in the batch
 * @param classes logits per image
 * @param logits [size × classes], row-major
 * @param cams class maps [size × classes × camHeight × camWidth], or null when the model has no CAM
 *     output (then camHeight and camWidth are 0)
 * @param nonFinite per image: true when any of its logits is NaN or infinite (the pipeline
 *     dead-letters such frames with reason {@code inference-error})
 */
public record BatchResult(
    int size,
    int classes,
    float[] logits,
    float[] cams,
    int camHeight,
    int camWidth,
    boolean[] nonFinite) {

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

  /** True when the batch carries class maps. */
  public boolean hasCams() {
    return cams != null;
  }

  /** Offset in {@link #cams()} of image {@code i}'s map for class {@code c}. */
  public int camOffset(int i, int c) {
    return (i * classes + c) * camHeight * camWidth;
  }
}
