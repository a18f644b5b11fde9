package dev.gapstream.inference;

import dev.gapstream.ingest.AreaDownscale;
import dev.gapstream.ingest.RgbPixels;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Classifies single decoded frames and localises the top class with its CAM: what {@code explain}
 * prints, reusable by anything that shows one frame at a time. A fully convolutional model gets
 * the frame as the pipeline would give it, scaled down to a longest side when it is longer; a
 * fixed-size model gets it resized (stretched). Either way the CAM's fractions of width and
 * height hold for the original frame.
 *
 * <p>Owns an {@link InferenceEngine}; {@link #explain} is blocking and as thread-safe as the
 * engine's {@code run}. Close it to release the session.
 */
public final class Explainer implements AutoCloseable {

  /**
   * What the model said about one frame.
   *
   * @param inputWidth pixels the model saw
   * @param inputHeight pixels the model saw
   * @param top the best classes by softmax score, best first
   * @param cam the top class's localisation, or null when the model has no CAM
   */
  public record Explanation(
      int inputWidth, int inputHeight, List<Scores.Scored> top, ClassActivationMap cam) {

    public Explanation {
      top = List.copyOf(top);
    }
  }

  private final InferenceEngine engine;
  private final Preprocessor preprocessor;
  private final int maxSide;

  private Explainer(InferenceEngine engine, int maxSide) {
    this.engine = engine;
    this.preprocessor = new Preprocessor(engine.spec());
    this.maxSide = maxSide;
  }

  /**
   * Loads the model at {@code onnxFile} (with its {@code model.json} when present). Blocking.
   *
   * @param maxSide the longest side a frame runs at, as {@code ingest.resize.max.side}: -1 for the
   *     model's own {@code maxSide}, 0 for the frame's own size
   * @throws ModelException when the model or its descriptor cannot be loaded
   */
  public static Explainer open(Path onnxFile, EngineOptions options, int maxSide) {
    ModelSpec spec = ModelSpec.load(onnxFile);
    return new Explainer(
        InferenceEngine.open(onnxFile, spec, options), spec.maxSide(maxSide));
  }

  public InferenceEngine engine() {
    return engine;
  }

  /**
   * Runs the model on {@code frame}: the {@code k} best classes and the CAM of the best one.
   *
   * @param threshold box threshold in [0, 1], see {@link CamExtractor#extract}
   * @throws ModelException when the frame is below the model's minimum size or inference fails
   */
  public Explanation explain(BufferedImage frame, int k, float threshold) {
    BufferedImage input = modelInput(RgbPixels.asFrame(frame));
    int w = input.getWidth();
    int h = input.getHeight();
    FloatBuffer batch = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(w, h));
    preprocessor.toChw(input.getRGB(0, 0, w, h, null, 0, w), w, h, batch);
    BatchResult r = engine.run(batch.flip(), 1, h, w);
    if (!r.isFinite(0)) {
      throw new ModelException(engine.spec().name() + ": the model returned non-finite logits");
    }
    List<Scores.Scored> top = Scores.topK(Scores.softmax(r.logits(), 0, r.classes()), k);
    ClassActivationMap cam =
        r.hasCams()
            ? CamExtractor.fromBatch(r, 0, top.get(0).index(), threshold, engine.spec().camCellCentre())
            : null;
    return new Explanation(w, h, top, cam);
  }

  /**
   * The frame as the model takes it: resized to a fixed size, else scaled down to the longest side
   * and checked against the minimum.
   */
  private BufferedImage modelInput(BufferedImage frame) {
    ModelSpec spec = engine.spec();
    if (spec.isFixedSize()) {
      return AreaDownscale.resized(frame, spec.fixedWidth(), spec.fixedHeight());
    }
    BufferedImage input = maxSide > 0 ? AreaDownscale.fitted(frame, maxSide) : frame;
    if (input.getWidth() < spec.minWidth() || input.getHeight() < spec.minHeight()) {
      String scaled =
          input == frame
              ? ""
              : " (" + input.getWidth() + "x" + input.getHeight() + " at longest side " + maxSide + ")";
      throw new ModelException(
          String.format(
              "image %dx%d%s is smaller than the model's minimum %dx%d",
              frame.getWidth(), frame.getHeight(), scaled, spec.minWidth(), spec.minHeight()));
    }
    return input;
  }

  @Override
  public void close() {
    engine.close();
  }
}
