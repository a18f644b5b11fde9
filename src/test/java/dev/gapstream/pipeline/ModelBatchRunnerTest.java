package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.batch.Batch;
import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.bench.ModelTime;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.CamPlan;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelException;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.inference.TestModels;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.TestPipelines;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * A batch through the real model, whole or in runs ({@code batch.run.max.pixels}): each frame gets
 * the prediction one whole run gives it, and no run takes more frames than the policy's run size.
 */
class ModelBatchRunnerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SIDE = 224;
  private static final long FRAME = (long) SIDE * SIDE;
  private static final BatchPolicy WHOLE = new BatchPolicy(16, BatchPolicy.ANY_PIXELS, 0);
  private static final Path SHIPPED =
      Path.of(System.getProperty("gapstream.home", ".")).resolve("models/gapnet-shapes/model.onnx");

  @Test
  void aBatchInRunsGivesEachFrameThePredictionOfOneWholeRun() throws IOException {
    ModelSpec spec = ModelSpec.load(SHIPPED);
    List<SyntheticFrame> frames = sevenFrames(28); // runs of 3 leave a last run of 1
    try (InferenceEngine engine = InferenceEngine.open(SHIPPED, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      List<JsonNode> whole = predictions(engine, spec, WHOLE, frames, metrics);
      List<JsonNode> inThrees = predictions(engine, spec, WHOLE.withRunPixels(3 * FRAME), frames, metrics);
      List<JsonNode> inOnes = predictions(engine, spec, WHOLE.withRunPixels(FRAME), frames, metrics);

      List<String> labels = new ArrayList<>();
      for (int i = 0; i < frames.size(); i++) {
        labels.add(whole.get(i).at("/top/0/label").asText());
        for (List<JsonNode> parts : List.of(inThrees, inOnes)) {
          JsonNode p = parts.get(i);
          assertThat(p.get("frameId").asText()).isEqualTo(whole.get(i).get("frameId").asText());
          assertThat(p.get("batchSize").asInt()).as("the batch's size, not the run's").isEqualTo(7);
          assertThat(p.get("top")).as("frame %d's scores", i).isEqualTo(whole.get(i).get("top"));
          assertThat(p.get("cam")).as("frame %d's CAM and heatmap", i).isEqualTo(whole.get(i).get("cam"));
        }
      }
      // Frames of different classes, so that a frame given another's outputs would show.
      assertThat(labels.stream().distinct().count()).as("the model's labels: %s", labels).isGreaterThan(2);
      // One inference record a batch, however many runs it took.
      assertThat(ModelTime.of(metrics.registry()).batches()).isEqualTo(3);
    }
  }

  /**
   * {@code cam.enabled=false} opens the engine without CAMs: the shipped model's feature map is no
   * longer fetched from each run, and the predictions are the same, without their {@code cam}.
   */
  @Test
  void camsOffFetchNoFeaturesAndPredictTheSame() throws IOException {
    ModelSpec spec = ModelSpec.load(SHIPPED);
    List<SyntheticFrame> frames = sevenFrames(11);
    GapstreamConfig config = TestPipelines.config(Map.of("cam.enabled", "false", "cam.heatmap", "false"));
    try (InferenceEngine on = InferenceEngine.open(SHIPPED, spec, EngineOptions.cpu(1));
        InferenceEngine off = InferenceEngine.open(SHIPPED, spec, GapstreamService.engineOptions(config));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      assertThat(off.camPlan().kind()).isEqualTo(CamPlan.Kind.NONE);
      List<JsonNode> with = predictions(on, spec, WHOLE, frames, metrics);
      List<Outcome> outcomes =
          new ModelBatchRunner(off, spec, config.cam(), 3, WHOLE, metrics.pipeline(), PredictionTap.NONE)
              .run(batch(frames));
      for (int i = 0; i < frames.size(); i++) {
        JsonNode without = JSON.readTree(outcomes.get(i).json());
        assertThat(with.get(i).has("cam")).isTrue();
        assertThat(without.has("cam")).as("frame %d", i).isFalse();
        assertThat(without.get("top")).as("frame %d's scores", i).isEqualTo(with.get(i).get("top"));
      }
    }
  }

  @Test
  void aFramesInferenceTimeRunsToTheEndOfItsOwnRun() throws IOException {
    ModelSpec spec = ModelSpec.load(SHIPPED);
    List<SyntheticFrame> frames = sevenFrames(5);
    try (InferenceEngine engine = InferenceEngine.open(SHIPPED, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      List<Outcome> outcomes = runner(engine, spec, WHOLE.withRunPixels(3 * FRAME), metrics).run(batch(frames));

      assertThat(outcomes).extracting(o -> o.frame().record().offset()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
      List<Double> inferenceMs = new ArrayList<>();
      for (Outcome o : outcomes) {
        inferenceMs.add(JSON.readTree(o.json()).at("/latencyMs/inference").asDouble());
      }
      // Runs of 3, 3 and 1: one time per run, each longer than the one before.
      assertThat(inferenceMs.subList(0, 3)).containsOnly(inferenceMs.get(0));
      assertThat(inferenceMs.subList(3, 6)).containsOnly(inferenceMs.get(3));
      assertThat(inferenceMs.get(3)).isGreaterThan(inferenceMs.get(0));
      assertThat(inferenceMs.get(6)).isGreaterThan(inferenceMs.get(3));
    }
  }

  @Test
  void noRunTakesMoreFramesThanTheRunSize() {
    // A model whose input takes exactly one image: ONNX Runtime refuses any larger run.
    Path model = TestModels.ensure("tiny-cam-batch1");
    ModelSpec spec = ModelSpec.load(model);
    SyntheticFrames synth = new SyntheticFrames(3, List.of(new FrameSize(64, 48)));
    List<SyntheticFrame> frames = List.of(synth.next(), synth.next(), synth.next(), synth.next());
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      List<Outcome> outcomes = runner(engine, spec, WHOLE.withRunPixels(64 * 48), metrics).run(batch(frames));

      assertThat(outcomes).hasSize(4).allSatisfy(o -> assertThat(o.isPrediction()).isTrue());
      assertThatThrownBy(() -> runner(engine, spec, WHOLE, metrics).run(batch(frames)))
          .as("the same batch in one run")
          .isInstanceOf(ModelException.class);
    }
  }

  /**
   * A run that fails dead-letters its own frames, not the batch's: the runs before and after it
   * keep their predictions. Before, one failed run of a batch dead-lettered every frame of it,
   * the predictions already made included. A batch whose every run fails still fails whole.
   */
  @Test
  void aFailedRunDeadLettersItsOwnFramesOnly() {
    // A model whose input takes exactly one image: a run of 2 fails, a run of 1 does not.
    Path model = TestModels.ensure("tiny-cam-batch1");
    ModelSpec spec = ModelSpec.load(model);
    SyntheticFrames synth = new SyntheticFrames(5, List.of(new FrameSize(64, 48)));
    List<SyntheticFrame> frames = List.of(synth.next(), synth.next(), synth.next());
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      List<Outcome> outcomes = runner(engine, spec, WHOLE.withRunPixels(2 * 64 * 48), metrics).run(batch(frames));

      assertThat(outcomes).extracting(o -> o.frame().record().offset()).containsExactly(0L, 1L, 2L);
      assertThat(outcomes.subList(0, 2)).allSatisfy(o -> {
        assertThat(o.isPrediction()).isFalse();
        assertThat(o.reason()).isEqualTo(RejectReason.INFERENCE_ERROR);
        assertThat(o.error()).startsWith("run of 2 frames failed: ");
      });
      assertThat(outcomes.get(2).isPrediction()).as("the last run's frame, alone").isTrue();
      assertThat(ModelTime.of(metrics.registry()).batches()).as("the batch that ran, counted").isEqualTo(1);
    }
  }

  /**
   * The real model's non-finite logits: a model that gives NaN for a dark frame, a dark frame and a
   * light one in one batch. The dark one is dead-lettered ({@code inference-error}) and the light
   * one predicted. Before, this branch ran only against a stand-in engine that made the NaN call
   * itself ({@code BatchFailureIT}).
   */
  @Test
  void aFrameWhoseLogitsAreNotFiniteIsDeadLetteredAndTheRestPredicted() throws IOException {
    Path model = TestModels.ensure("tiny-cam-nan");
    ModelSpec spec = ModelSpec.load(model);
    try (InferenceEngine engine = InferenceEngine.open(model, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      List<Outcome> outcomes = runner(engine, spec, WHOLE, metrics).run(batchOf(List.of(filled(0x000000), filled(0xffffff))));

      assertThat(outcomes.get(0).isPrediction()).as("the dark frame").isFalse();
      assertThat(outcomes.get(0).reason()).isEqualTo(RejectReason.INFERENCE_ERROR);
      assertThat(outcomes.get(0).error()).isEqualTo("the model gave non-finite logits");
      assertThat(outcomes.get(1).isPrediction()).as("the light frame: %s", outcomes.get(1).error()).isTrue();
      JsonNode top = JSON.readTree(outcomes.get(1).json()).path("top").path(0);
      assertThat(top.path("score").asDouble()).isBetween(0.0, 1.0);
    }
  }

  /**
   * The live view's tap sees each prediction before it is published and must not throw; where it
   * does, the prediction goes out all the same. It used to fail the batch: every frame of it
   * dead-lettered as {@code inference-error}.
   */
  @Test
  void aTapThatThrowsCostsNoPrediction() throws IOException {
    ModelSpec spec = ModelSpec.load(SHIPPED);
    List<String> tapped = new ArrayList<>();
    PredictionTap failing = (pixels, prediction, cam) -> {
      tapped.add(prediction.frameId());
      throw new IllegalStateException("the tap broke");
    };
    try (InferenceEngine engine = InferenceEngine.open(SHIPPED, spec, EngineOptions.cpu(1));
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      ModelBatchRunner runner =
          new ModelBatchRunner(engine, spec, new GapstreamConfig.Cam(true, true), 3, WHOLE, metrics.pipeline(), failing);
      List<Outcome> outcomes = runner.run(batch(sevenFrames(5)));

      assertThat(tapped).hasSize(7);
      assertThat(outcomes).hasSize(7).allSatisfy(o -> assertThat(o.isPrediction()).as(o.error()).isTrue());
    }
  }

  private static BufferedImage filled(int rgb) {
    BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  private static List<SyntheticFrame> sevenFrames(long seed) {
    SyntheticFrames synth = new SyntheticFrames(seed, List.of(new FrameSize(SIDE, SIDE)));
    List<SyntheticFrame> frames = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      frames.add(synth.next());
    }
    return frames;
  }

  private static List<JsonNode> predictions(
      InferenceEngine engine, ModelSpec spec, BatchPolicy policy, List<SyntheticFrame> frames, GapstreamMetrics metrics)
      throws IOException {
    List<JsonNode> predictions = new ArrayList<>();
    for (Outcome o : runner(engine, spec, policy, metrics).run(batch(frames))) {
      assertThat(o.isPrediction()).as(o.error()).isTrue();
      predictions.add(JSON.readTree(o.json()));
    }
    return predictions;
  }

  private static ModelBatchRunner runner(
      InferenceEngine engine, ModelSpec spec, BatchPolicy policy, GapstreamMetrics metrics) {
    return new ModelBatchRunner(
        engine, spec, new GapstreamConfig.Cam(true, true), 3, policy, metrics.pipeline(), PredictionTap.NONE);
  }

  private static Batch<Shape, Frame> batch(List<SyntheticFrame> frames) {
    return batchOf(frames.stream().map(SyntheticFrame::image).toList());
  }

  private static Batch<Shape, Frame> batchOf(List<BufferedImage> images) {
    List<Frame> items = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      BufferedImage image = images.get(i);
      Frame frame = new Frame(new ConsumerRecord<>("frames", 0, i, null, new byte[0]), null, System.nanoTime());
      frame.decoded(new DecodedFrame(image.getWidth(), image.getHeight(), rgb(image)), System.nanoTime());
      items.add(frame);
    }
    BufferedImage first = images.get(0);
    return new Batch<>(new Shape(first.getWidth(), first.getHeight()), items, 0, 0);
  }

  private static byte[] rgb(BufferedImage image) {
    byte[] rgb = new byte[3 * image.getWidth() * image.getHeight()];
    int i = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int p = image.getRGB(x, y);
        rgb[i++] = (byte) (p >> 16);
        rgb[i++] = (byte) (p >> 8);
        rgb[i++] = (byte) p;
      }
    }
    return rgb;
  }
}
