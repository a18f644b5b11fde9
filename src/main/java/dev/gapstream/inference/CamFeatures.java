package dev.gapstream.inference;

/**
 * The pre-GAP feature maps of one batch of a GAP→linear model together with the linear layer's
 * weights: everything needed to compute a class activation map, Σ_k w_ck·f_k, for any image and
 * class on demand. Keeping the K feature maps instead of all C class maps costs K·h·w floats per
 * image and makes a map cost K·h·w multiply-adds only when someone asks for it (ResNet-18: 512×7×7
 * ≈ 25k, instead of 25M for all 1000 classes).
 *
 * <p>Thread-safe: the arrays are shared, never written after construction (callers must not write
 * to them either); {@link #allMaps} memoises its result under a lock.
 */
public final class CamFeatures {
  private final float[] features;
  private final int channels;
  private final int height;
  private final int width;
  private final float[][] weights;
  private float[] all;

  /**
   * @param features [images × channels × height × width], row-major
   * @param weights [classes][channels], as {@link GapHead#classWeights} returns them; shared by all
   *     batches of an engine
   */
  CamFeatures(float[] features, int channels, int height, int width, float[][] weights) {
    if (weights.length == 0 || weights[0].length != channels) {
      throw new ModelException(
          "classifier weights take "
              + (weights.length == 0 ? 0 : weights[0].length)
              + " features, the feature map has "
              + channels
              + " channels");
    }
    this.features = features;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.weights = weights;
  }

  /** K, the number of feature maps per image. */
  public int channels() {
    return channels;
  }

  /** The map of class {@code classIndex} for image {@code image}: a new {@code h × w} array. */
  public float[] map(int image, int classIndex) {
    int offset = image * channels * height * width;
    return CamExtractor.weightedSum(
        features, offset, channels, height, width, weights[classIndex]);
  }

  /**
   * Every class's map for every image, [images × classes × h × w], computed on the first call and
   * kept. Only for callers that need them all: it costs classes·K·h·w multiply-adds per image.
   */
  synchronized float[] allMaps(int images) {
    if (all == null) {
      int cells = height * width;
      float[] out = new float[images * weights.length * cells];
      for (int i = 0; i < images; i++) {
        for (int c = 0; c < weights.length; c++) {
          System.arraycopy(map(i, c), 0, out, (i * weights.length + c) * cells, cells);
        }
      }
      all = out;
    }
    return all;
  }
}
