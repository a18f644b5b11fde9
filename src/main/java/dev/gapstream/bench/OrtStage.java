package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.OrtRow;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stage 1, the ceiling: the engine alone on tensors prepared in advance, at each batch size, with
 * the pipeline's thread settings: {@code inference.concurrency} callers at once, each run using
 * {@code inference.threads}. Each measurement gets two untimed warm-up runs (the first run at a
 * shape is slow), then runs until both {@code duration} and {@code minIterations} are reached.
 */
final class OrtStage {

  private final InferenceEngine engine;
  private final Preprocessor preprocessor;
  private final List<DecodedFrame> frames;
  private final int concurrency;

  /** {@code frames}: decoded frames, all of one shape; {@code concurrency}: callers at once. */
  OrtStage(InferenceEngine engine, List<DecodedFrame> frames, int concurrency) {
    this.engine = engine;
    this.preprocessor = new Preprocessor(engine.spec());
    this.frames = frames;
    this.concurrency = concurrency;
  }

  /**
   * Measures every size once per round, sizes in turn, and keeps each size's fastest round: the
   * same best-of-rounds that stage 3 reports, so that neither side of a ratio is favoured by a
   * quieter moment of a shared machine.
   */
  List<OrtRow> run(List<Integer> batchSizes, Duration duration, int minIterations, int rounds) {
    Map<Integer, OrtRow> best = new LinkedHashMap<>();
    for (int round = 0; round < rounds; round++) {
      for (int n : batchSizes) {
        OrtRow row = measure(n, duration.toNanos(), minIterations);
        best.merge(n, row, (a, b) -> b.imagesPerSecond() > a.imagesPerSecond() ? b : a);
      }
    }
    return new ArrayList<>(best.values());
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
    engine.run(tensor, n, h, w); // untimed warm-up: the first run at a shape plans its memory
    engine.run(tensor, n, h, w);
    // The engine reads from the buffer's position without moving it: callers can share it.
    List<Thread> callers = new ArrayList<>();
    AtomicInteger iterations = new AtomicInteger();
    ThreadCpu cpu = ThreadCpu.now();
    long start = System.nanoTime();
    for (int c = 0; c < concurrency; c++) {
      Thread caller = new Thread(() -> loop(tensor, n, w, h, start, durationNanos, minIterations, iterations),
          "bench-ort-" + c);
      callers.add(caller);
      caller.start();
    }
    for (Thread caller : callers) {
      try {
        caller.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int runs = iterations.get();
    return new OrtRow(
        n, runs, Stats.round(seconds * 1000 * concurrency / runs), Stats.round(n * runs / seconds),
        ThreadCpu.now().since(cpu, seconds).coresBusy());
  }

  private void loop(
      FloatBuffer tensor, int n, int w, int h, long start, long durationNanos, int minIterations,
      AtomicInteger iterations) {
    int mine = 0;
    do {
      engine.run(tensor, n, h, w);
      mine++;
      iterations.incrementAndGet();
    } while (System.nanoTime() - start < durationNanos || mine * concurrency < minIterations);
  }
}
