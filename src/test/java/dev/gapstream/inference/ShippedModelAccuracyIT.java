package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.TestPipelines;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
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
    Localisation l = measure(new SyntheticFrames(SEED), FRAMES, IOU_FRAMES);
    System.out.println("shipped model on fresh frames: " + l);
    assertThat(l.top1()).as("top-1 accuracy").isGreaterThanOrEqualTo(0.97);
    assertThat(l.peakInBox()).as("CAM peak in box").isGreaterThanOrEqualTo(0.90);
    // Floors a little under the shipped model's figures (0.496 and 0.505 on this seed): a model or
    // CAM post-processing change that localises worse fails here.
    assertThat(l.meanIou()).as("mean CAM-box IoU").isGreaterThanOrEqualTo(0.40);
    assertThat(l.iouAtLeastHalf()).as("share with IoU >= 0.5").isGreaterThanOrEqualTo(0.40);
  }

  /**
   * Frames whose sides are not multiples of the net's stride (8): its maps are rounded up, and the
   * last row and column of cells reach past the frame's edges. Peaks and boxes are placed by the
   * grid's span (see {@link BatchResult#camSpanX()}), and localise as well as at exact sizes.
   */
  @Test
  void framesNotAMultipleOfTheStrideAreLocalisedAsWell() {
    List<FrameSize> odd =
        List.of(
            new FrameSize(70, 97), new FrameSize(131, 101), new FrameSize(150, 110), new FrameSize(203, 157),
            new FrameSize(250, 170), new FrameSize(251, 251));
    Localisation l = measure(new SyntheticFrames(SEED + 2, odd), 600, 600);
    System.out.println("shipped model on frames not a multiple of its stride: " + l);
    assertThat(l.top1()).as("top-1 accuracy").isGreaterThanOrEqualTo(0.97);
    assertThat(l.peakInBox()).as("CAM peak in box").isGreaterThanOrEqualTo(0.90);
    assertThat(l.meanIou()).as("mean CAM-box IoU").isGreaterThanOrEqualTo(0.40);
    assertThat(l.iouAtLeastHalf()).as("share with IoU >= 0.5").isGreaterThanOrEqualTo(0.40);
  }

  /**
   * @param peakInBox of the correct predictions, the share whose CAM peak lies in the true box
   * @param peakToCentre of those, the mean distance from the peak to the true box's centre, as a
   *     fraction of the frame's diagonal
   */
  private record Localisation(
      int frames, double top1, double peakInBox, double peakToCentre, double meanIou, double iouAtLeastHalf) {
    @Override
    public String toString() {
      return String.format(
          "%d frames: top-1 %.4f, CAM peak in box %.4f, peak to box centre %.4f of the diagonal;"
              + " mean CAM-box IoU %.3f, IoU >= 0.5 for %.3f",
          frames, top1, peakInBox, peakToCentre, meanIou, iouAtLeastHalf);
    }
  }

  /** The model on {@code count} frames, IoU over the first {@code iouFrames}, at the frames' own size. */
  private static Localisation measure(SyntheticFrames frames, int count, int iouFrames) {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    Preprocessor pre = new Preprocessor(spec);
    int correct = 0;
    int peakInBox = 0;
    double peakToCentre = 0;
    double iouSum = 0;
    int iouHalf = 0;
    try (InferenceEngine engine =
        InferenceEngine.open(ShippedModelIT.MODEL, spec, EngineOptions.cpu(2))) {
      for (int n = 0; n < count; n++) {
        SyntheticFrame f = frames.next();
        BufferedImage img = f.image();
        int w = img.getWidth();
        int h = img.getHeight();
        FloatBuffer in = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(w, h));
        pre.toChw(img.getRGB(0, 0, w, h, null, 0, w), w, h, in);
        BatchResult r = engine.run(in.flip(), 1, h, w);
        int top = Scores.argmax(r.logits(), 0, r.classes());
        ClassActivationMap cam = CamExtractor.fromBatch(r, 0, top, CamExtractor.DEFAULT_THRESHOLD, spec.camCellCentre());
        if (top == f.label()) {
          correct++;
          if (f.box().contains(cam.peakX() * w, cam.peakY() * h)) {
            peakInBox++;
          }
          double dx = cam.peakX() * w - (f.box().x0() + f.box().x1()) / 2.0;
          double dy = cam.peakY() * h - (f.box().y0() + f.box().y1()) / 2.0;
          peakToCentre += Math.hypot(dx, dy) / Math.hypot(w, h);
        }
        if (n < iouFrames) {
          double iou = iou(cam.box(), f.box(), w, h);
          iouSum += iou;
          iouHalf += iou >= 0.5 ? 1 : 0;
        }
      }
    }
    return new Localisation(
        count, (double) correct / count, (double) peakInBox / correct, peakToCentre / correct,
        iouSum / iouFrames, (double) iouHalf / iouFrames);
  }

  /**
   * Camera resolutions, decoded as the pipeline decodes them by default: scaled down to the
   * model's {@code maxSide} (256), where objects are the size the model learnt. Their CAMs, in
   * fractions of the scaled frame, find the object in the original one.
   */
  @Test
  void cameraResolutionsScaledToTheModelsMaxSideAreClassifiedAndLocalised() {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    FrameDecoder decoder =
        new FrameDecoder(GapstreamService.decodeLimits(TestPipelines.config(Map.of()), spec));
    List<FrameSize> cameras =
        List.of(new FrameSize(640, 480), new FrameSize(1280, 720), new FrameSize(1920, 1080));
    int frames = 150;
    int correct = 0;
    int peakInBox = 0;
    try (InferenceEngine engine = InferenceEngine.open(ShippedModelIT.MODEL, spec, EngineOptions.cpu(2))) {
      SyntheticFrames source = new SyntheticFrames(SEED + 1, cameras);
      for (int n = 0; n < frames; n++) {
        SyntheticFrame f = source.next();
        DecodedFrame d = decoder.decode(f.encode("jpeg"), "image/jpeg", null, null);
        assertThat(Math.max(d.width(), d.height())).isEqualTo(256);
        BatchResult r = run(engine, spec, d);
        int top = Scores.argmax(r.logits(), 0, r.classes());
        if (top == f.label()) {
          correct++;
          ClassActivationMap cam =
              CamExtractor.fromBatch(r, 0, top, CamExtractor.DEFAULT_THRESHOLD, spec.camCellCentre());
          if (f.box().contains(cam.peakX() * f.width(), cam.peakY() * f.height())) {
            peakInBox++;
          }
        }
      }
    }
    System.out.printf(
        "shipped model on %d camera-resolution frames scaled to 256: top-1 %.4f, CAM peak in box %.4f%n",
        frames, (double) correct / frames, (double) peakInBox / correct);
    assertThat((double) correct / frames).as("top-1 accuracy").isGreaterThanOrEqualTo(0.97);
    assertThat((double) peakInBox / correct).as("CAM peak in box").isGreaterThanOrEqualTo(0.90);
  }

  /**
   * Why the model carries a {@code maxSide}: at their own size, camera frames hold objects several
   * times larger than any the model learnt (30-60% of the shorter side), and it does little better
   * than chance (1 in 6). A model retrained to hold at these scales fails here: then its maxSide
   * can go.
   */
  @Test
  void atTheirOwnSizeCameraFramesHoldObjectsTooLargeForTheModel() {
    ModelSpec spec = ModelSpec.load(ShippedModelIT.MODEL);
    FrameDecoder decoder =
        new FrameDecoder(
            GapstreamService.decodeLimits(TestPipelines.config(Map.of("ingest.resize.max.side", "0")), spec));
    int frames = 40;
    int correct = 0;
    try (InferenceEngine engine = InferenceEngine.open(ShippedModelIT.MODEL, spec, EngineOptions.cpu(2))) {
      SyntheticFrames source =
          new SyntheticFrames(SEED + 1, List.of(new FrameSize(640, 480), new FrameSize(1280, 720)));
      for (int n = 0; n < frames; n++) {
        SyntheticFrame f = source.next();
        DecodedFrame d = decoder.decode(f.encode("jpeg"), "image/jpeg", null, null);
        assertThat(d.width()).isEqualTo(f.width());
        BatchResult r = run(engine, spec, d);
        correct += Scores.argmax(r.logits(), 0, r.classes()) == f.label() ? 1 : 0;
      }
    }
    System.out.printf("shipped model on %d camera frames at their own size: top-1 %.4f%n", frames, (double) correct / frames);
    assertThat((double) correct / frames).isLessThan(0.6);
  }

  private static BatchResult run(InferenceEngine engine, ModelSpec spec, DecodedFrame d) {
    FloatBuffer in = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(d.width(), d.height()));
    new Preprocessor(spec).toChw(d.rgb(), d.width(), d.height(), in);
    return engine.run(in.flip(), 1, d.height(), d.width());
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
