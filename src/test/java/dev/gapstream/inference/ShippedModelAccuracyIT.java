package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * Accuracy and localisation of the shipped model on fresh synthetic frames at mixed resolutions (a
 * seed not used in training), run through ONNX Runtime: top-1, CAM peak inside the true box, and
 * the CAM box's overlap (IoU) with the true box over the first 1,000 frames.
 */
class ShippedModelAccuracyIT {
  private static final long SEED = 20_261_130L; // not a training or eval seed
  private static final int FRAMES = 2_000;
  private static final int IOU_FRAMES = 1_000;

  @Test
  void top1AtLeast97PercentAndCamPeakInBoxAtLeast90Percent() {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    Preprocessor pre = new Preprocessor(spec);
    SyntheticFrames frames = new SyntheticFrames(SEED);
    int correct = 0;
    int peakInBox = 0;
    double iouSum = 0;
    int iouHalf = 0;
    try (InferenceEngine engine =
        InferenceEngine.open(ShippedModelIT.MODEL, spec, EngineOptions.cpu(2))) {
      for (int n = 0; n < FRAMES; n++) {
        SyntheticFrame f = frames.next();
        BufferedImage img = f.image();
        int w = img.getWidth();
        int h = img.getHeight();
        FloatBuffer in = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(w, h));
        pre.toChw(img.getRGB(0, 0, w, h, null, 0, w), w, h, in);
        BatchResult r = engine.run(in.flip(), 1, h, w);
        int top = Scores.argmax(r.logits(), 0, r.classes());
        if (top == f.label()) {
          correct++;
          ClassActivationMap cam =
              CamExtractor.fromBatch(r, 0, top, CamExtractor.DEFAULT_THRESHOLD, spec.camCellCentre());
          if (f.box().contains(cam.peakX() * w, cam.peakY() * h)) {
            peakInBox++;
          }
        }
        if (n < IOU_FRAMES) {
          ClassActivationMap cam = CamExtractor.fromBatch(r, 0, top, CamExtractor.DEFAULT_THRESHOLD, spec.camCellCentre());
          double iou = iou(cam.box(), f.box(), w, h);
          iouSum += iou;
          iouHalf += iou >= 0.5 ? 1 : 0;
        }
      }
    }
    System.out.printf(
        "shipped model on %d fresh frames: top-1 %.4f, CAM peak in box %.4f; over %d frames: mean"
            + " CAM-box IoU %.3f, IoU >= 0.5 for %.3f%n",
        FRAMES, (double) correct / FRAMES, (double) peakInBox / correct, IOU_FRAMES,
        iouSum / IOU_FRAMES, (double) iouHalf / IOU_FRAMES);
    assertThat((double) correct / FRAMES).as("top-1 accuracy").isGreaterThanOrEqualTo(0.97);
    assertThat((double) peakInBox / correct).as("CAM peak in box").isGreaterThanOrEqualTo(0.90);
    // Floors a little under the shipped model's figures (0.484 and 0.513 on this seed): a model or
    // CAM post-processing change that localises worse fails here.
    assertThat(iouSum / IOU_FRAMES).as("mean CAM-box IoU").isGreaterThanOrEqualTo(0.40);
    assertThat((double) iouHalf / IOU_FRAMES).as("share with IoU >= 0.5").isGreaterThanOrEqualTo(0.40);
  }

  /** Intersection over union of a CAM box (fractions) and a true box (pixels, exclusive ends). */
  static double iou(float[] cam, dev.gapstream.synth.Box truth, int w, int h) {
    double ax0 = cam[0] * w;
    double ay0 = cam[1] * h;
    double ax1 = cam[2] * w;
    double ay1 = cam[3] * h;
    double ix = Math.max(0, Math.min(ax1, truth.x1()) - Math.max(ax0, truth.x0()));
    double iy = Math.max(0, Math.min(ay1, truth.y1()) - Math.max(ay0, truth.y0()));
    double inter = ix * iy;
    double union =
        (ax1 - ax0) * (ay1 - ay0) + (double) (truth.x1() - truth.x0()) * (truth.y1() - truth.y0()) - inter;
    return union <= 0 ? 0 : inter / union;
  }
}
