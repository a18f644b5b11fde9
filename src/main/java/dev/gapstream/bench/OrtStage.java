package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.OrtRow;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Stage 1, the ceiling: the engine alone on tensors prepared in advance, at each batch size. Each
 * size gets two untimed warm-up runs (ONNX Runtime plans memory per input shape on the first), then
 * runs until both {@code duration} and {@code minIterations} are reached.
 */
final class OrtStage {

  private final InferenceEngine engine;
  private final Preprocessor preprocessor;
  private final List<DecodedFrame> frames;

  /** {@code frames}: decoded frames, all of one shape. */
  OrtStage(InferenceEngine engine, List<DecodedFrame> frames) {
    this.engine = engine;
    this.preprocessor = new Preprocessor(engine.spec());
    this.frames = frames;
  }

  List<OrtRow> run(List<Integer> batchSizes, Duration duration, int minIterations) {
    List<OrtRow> rows = new ArrayList<>();
    for (int n : batchSizes) {
      rows.add(measure(n, duration.toNanos(), minIterations));
    }
    return rows;
  }

  private OrtRow measure(int n, long durationNanos, int minIterations) {
    DecodedFrame first = frames.get(0);
    int w = first.width();
    int h = first.height();
    FloatBuffer tensor = InferenceEngine.allocateBatch(n * Preprocessor.floatsPerImage(w, h));
    for (int i = 0; i < n; i++) {
      preprocessor.toChw(frames.get(i % frames.size()).rgb(), w, h, tensor);
    }
    tensor.flip();
    engine.run(tensor, n, h, w);
    engine.run(tensor, n, h, w);
    int iterations = 0;
    long start = System.nanoTime();
    long elapsed;
    do {
      engine.run(tensor, n, h, w);
      iterations++;
      elapsed = System.nanoTime() - start;
    } while (elapsed < durationNanos || iterations < minIterations);
    double seconds = elapsed / 1e9;
    return new OrtRow(n, iterations, Stats.round(seconds * 1000 / iterations), Stats.round(n * iterations / seconds));
  }
}
