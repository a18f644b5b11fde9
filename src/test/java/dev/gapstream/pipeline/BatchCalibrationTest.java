package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.pipeline.BatchCalibration.Point;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchCalibrationTest {

  private static final BatchPolicy SIXTEEN = new BatchPolicy(16, 4_194_304, 10_000_000);

  @Test
  void runsTheSmallestSizeAsFastAsTheFastest() {
    // The shipped model, two at a time: every size within 3% of the fastest alone on the AVX-512
    // host (4 there; 2 the smallest), 1 fastest on an AVX2 host, 4 well ahead on another.
    assertThat(BatchCalibration.runSize(points(888.2, 921.0, 926.1, 923.3, 903.5))).isEqualTo(2);
    assertThat(BatchCalibration.runSize(points(392, 339, 337, 287, 309))).isEqualTo(1);
    assertThat(BatchCalibration.runSize(points(331, 337, 395, 341, 282))).isEqualTo(4);
    // ResNet-18: faster with every size; 16 the fastest, 8 within 1.1% of it, then 6.7% behind.
    assertThat(BatchCalibration.runSize(points(92.8, 94.4, 93.9, 96.8, 97.3))).isEqualTo(8);
    assertThat(BatchCalibration.runSize(points(103.2, 101.3, 98.0, 100.3, 106.4))).isEqualTo(16);
    assertThat(BatchCalibration.runSize(List.of(new Point(1, 0), new Point(2, 0)))).as("nothing measured").isEqualTo(1);
    assertThatThrownBy(() -> BatchCalibration.runSize(List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void choosesTheBatchFastestOnceThePipelinesWorkPerBatchIsCounted() {
    // A batch larger than the run size runs in runs of it, at its rate: past it, a larger batch
    // costs the model no more per frame, and spreads the pipeline's 2 ms a batch over more frames.
    // The shipped model, two at a time: 16, or 8 where a frame's model time is long enough (5 ms on
    // the AVX2 host) that 8's larger share of the pipeline's work is within 3% of 16's.
    assertThat(BatchCalibration.choose(points(888.2, 921.0, 926.1, 923.3, 903.5), 2)).isEqualTo(16);
    assertThat(BatchCalibration.choose(points(826.5, 879.9, 851.6, 894.0, 800.9), 2)).isEqualTo(16);
    assertThat(BatchCalibration.choose(points(331, 337, 395, 341, 282), 2)).isEqualTo(8);
    assertThat(BatchCalibration.choose(points(392, 339, 337, 287, 309), 2)).as("1 fastest alone").isEqualTo(8);
    // Below the run size a batch runs whole, at its own rate: ResNet-18's 4 is 3% slower than 8.
    assertThat(BatchCalibration.choose(points(92.8, 94.4, 93.9, 96.8, 97.3), 2)).isEqualTo(8);
    assertThat(BatchCalibration.choose(points(103.2, 101.3, 98.0, 100.3, 106.4), 2)).as("8 6.7% behind").isEqualTo(16);
    // A batch of 2 runs as two of 1: the pipeline's share halves, the model's stays.
    assertThat(BatchCalibration.choose(List.of(new Point(1, 1000), new Point(2, 500)), 1)).isEqualTo(2);
    assertThat(BatchCalibration.choose(List.of(new Point(1, 50)), 2)).isEqualTo(1);
    assertThat(BatchCalibration.choose(List.of(new Point(1, 0), new Point(2, 0)), 2)).as("nothing measured").isEqualTo(1);
    assertThatThrownBy(() -> BatchCalibration.choose(List.of(), 2)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void triesPowersOfTwoUpToTheLargestBatch() {
    assertThat(BatchCalibration.sizes(16)).containsExactly(1, 2, 4, 8, 16);
    assertThat(BatchCalibration.sizes(12)).containsExactly(1, 2, 4, 8, 12);
    assertThat(BatchCalibration.sizes(1)).containsExactly(1);
  }

  @Test
  void theChoiceBoundsABatchsPixelsNotItsFrames() {
    var result = new BatchCalibration.Result(224, 224, points(331, 337, 395, 341, 282), 4, 2);

    BatchPolicy calibrated = result.apply(SIXTEEN);

    assertThat(calibrated.maxPixels()).isEqualTo(4L * 224 * 224);
    assertThat(calibrated.maxSize()).isEqualTo(16);
    assertThat(calibrated.maxDelayNanos()).isEqualTo(SIXTEEN.maxDelayNanos());
    assertThat(calibrated.maxSizeFor(224 * 224)).isEqualTo(4);
    assertThat(calibrated.maxSizeFor(64 * 64)).as("small frames still fill batch.max.size").isEqualTo(16);
    assertThat(calibrated.maxSizeFor(640 * 480)).isEqualTo(1);
    // A configured bound below the calibrated one stays.
    assertThat(result.apply(new BatchPolicy(16, 100_000, 0)).maxPixels()).isEqualTo(100_000);
    assertThat(result.describe())
        .contains("4: 395")
        .contains("batches close at 4 frames of this size")
        .contains("run 2 frames at a time");
  }

  @Test
  void theRunSizeBoundsARunsPixelsUnlessConfigured() {
    var result = new BatchCalibration.Result(224, 224, points(888.2, 921.0, 926.1, 923.3, 903.5), 16, 2);

    BatchPolicy calibrated = result.apply(SIXTEEN);

    assertThat(calibrated.runPixels()).isEqualTo(2L * 224 * 224);
    assertThat(calibrated.runSizeFor(224 * 224)).isEqualTo(2);
    assertThat(calibrated.runSizeFor(112 * 112)).as("smaller frames, more a run").isEqualTo(8);
    assertThat(calibrated.runSizeFor(640 * 480)).as("a larger frame runs alone").isEqualTo(1);
    assertThat(result.apply(SIXTEEN.withRunPixels(4L * 224 * 224)).runSizeFor(224 * 224))
        .as("batch.run.max.pixels as configured")
        .isEqualTo(4);
  }

  @Test
  void measuresEverySizeWithTheRealModel() {
    Path model = Path.of(System.getProperty("gapstream.home", ".")).resolve("models/gapnet-shapes/model.onnx");
    try (InferenceEngine engine = InferenceEngine.open(model, ModelSpec.load(model), EngineOptions.cpu(1))) {
      BatchCalibration.Result result =
          BatchCalibration.measure(engine, 64, 64, new BatchPolicy(8, 4_194_304, 0), 2, Duration.ofMillis(20));

      assertThat(result.points()).extracting(Point::batchSize).containsExactly(1, 2, 4, 8);
      assertThat(result.points()).allSatisfy(p -> assertThat(p.framesPerSecond()).isPositive());
      assertThat(result.chosen()).isEqualTo(BatchCalibration.choose(result.points(), 2));
      assertThat(result.run()).isEqualTo(BatchCalibration.runSize(result.points()));
    }
  }

  private static List<Point> points(double... fps) {
    return List.of(
        new Point(1, fps[0]), new Point(2, fps[1]), new Point(4, fps[2]), new Point(8, fps[3]), new Point(16, fps[4]));
  }
}
