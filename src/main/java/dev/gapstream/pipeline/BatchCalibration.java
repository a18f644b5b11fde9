package dev.gapstream.pipeline;

import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.Preprocessor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * The batch and run sizes a model runs fastest at on this machine. A larger batch is not always a faster
 * one: once a batch's activations outgrow the CPU's caches, each frame costs more. The shipped model
 * ran 395 frames/s in batches of 4 and 282 in batches of 16 on one host (AVX2, 512 KB of L2 a
 * core), 900 in batches of 2 and 824 in batches of 16 on another; ResNet-18 gains a little up to
 * 32. A pipeline under load fills its batches to the limit, so a limit past the fastest size costs
 * throughput exactly when it is needed, and a backlog then drains slower than it built.
 *
 * <p>{@link #measure} times batches of 1, 2, 4, … up to the policy's largest at the model's input
 * size, {@code concurrency} at once as the pipeline runs them, twice (ascending, then descending),
 * keeping each size's better rate. It chooses two sizes. A batch: the size fastest once the
 * pipeline's own work per batch ({@link #PIPELINE_MS_PER_BATCH}) is added to the model's ({@link
 * #choose}). A run: the most frames of a batch one run of the model takes, the smallest size at
 * least as fast as the batch's ({@link #runSize}); a larger batch runs in several, one after
 * another.
 * {@link Result#apply} turns both into bounds on pixels, since what grows with a batch is its
 * pixels: frames smaller than the calibrated size batch more, larger ones fewer.
 *
 * <p>Why runs smaller than batches: alone, the shipped model runs as fast in batches of 2 as of 16,
 * but next to the decoders, the Kafka clients and a broker a batch of 16 costs more per frame than
 * smaller ones (eleventh session: a quarter more than 8): its activations leave the CPU's caches that
 * the other threads share. Side by side, batches of 16 in runs of 2 or 4 against whole, three runs:
 * the saturated pipeline 1.03–1.16 times as fast, and at 80% of saturation a third to a quarter of
 * the p99, where whole batches fell behind (twenty-eighth session). A batch is still one
 * hand-over and one publication.
 */
public final class BatchCalibration {

  /**
   * What a batch costs an inference slot besides the model's run, in milliseconds: the hand-offs
   * between the event loop and the slot's thread, the batch's assembly and completion, the thread
   * wake-ups, on cores the decoders and Kafka share. It favours larger batches than bare ONNX Runtime
   * does, and by this much on a 2-CPU host, where two measurements agree: the shipped model in
   * batches of 1, as fast as 4 alone, ran the pipeline no faster than batches of 16, 28% slower
   * alone (thirteenth session: 2.2 ms); and batches of 4 and 8, the 8 7% slower alone, ran it
   * equally fast in one run side by side (twenty-second session: 2.0 ms). The tolerance this
   * replaces (the largest size at most 20% slower than the fastest) chose 8 and 16 for the shipped
   * model there, and 16 ran the pipeline 0.80 times as fast as 4 side by side.
   */
  static final double PIPELINE_MS_PER_BATCH = 2.0;

  /**
   * Sizes whose frames take a slot at most this much longer than the least are as fast as the
   * calibration can tell, and the smallest of them is chosen. Its passes and runs differ by more
   * (bare ONNX Runtime's rate at one size moved 5–10% between runs on one host), and a batch's time
   * counts twice in a frame's latency (it may wait for a running batch, then run in its own):
   * batches of 8 against the 16 the least estimate chose on an AVX-512 host ran the pipeline 0.978
   * times as fast and halved the p99 at 80% of saturation (0.505, side by side; twenty-third
   * session).
   */
  static final double EQUALLY_FAST = 0.03;

  /** One batch size's rate: frames per second with {@code concurrency} batches running at once. */
  public record Point(int batchSize, double framesPerSecond) {}

  /**
   * @param points each size's rate, ascending by size
   * @param chosen the batch size {@link #choose} chose
   * @param run the run size {@link #runSize} chose
   */
  public record Result(int width, int height, List<Point> points, int chosen, int run) {

    public Result {
      points = List.copyOf(points);
    }

    /**
     * {@code policy} with batches of at most {@code chosen} frames' worth of this size's pixels, and
     * runs of at most {@code run} frames' worth where {@code policy} sets no bound on runs ({@code
     * batch.run.max.pixels} as configured wins).
     */
    public BatchPolicy apply(BatchPolicy policy) {
      long pixels = (long) width * height;
      long runPixels = policy.runPixels() == BatchPolicy.ANY_PIXELS ? run * pixels : policy.runPixels();
      return new BatchPolicy(
          policy.maxSize(), Math.min(policy.maxPixels(), chosen * pixels), policy.maxDelayNanos(), runPixels);
    }

    /** Each size's rate, by batch size, ascending. */
    public Map<Integer, Double> ratesByBatch() {
      Map<Integer, Double> rates = new TreeMap<>();
      points.forEach(p -> rates.put(p.batchSize(), p.framesPerSecond()));
      return rates;
    }

    /** Each size's rate and the choice, for the log. */
    public String describe() {
      String rates =
          points.stream()
              .map(p -> String.format(Locale.ROOT, "%d: %.0f", p.batchSize(), p.framesPerSecond()))
              .collect(Collectors.joining(", "));
      return String.format(
          Locale.ROOT,
          "frames/s by batch size at %dx%d: %s; batches close at %d frames of this size (%d pixels),"
              + " and run %d frames at a time",
          width, height, rates, chosen, (long) chosen * width * height, run);
    }
  }

  private BatchCalibration() {}

  /**
   * The smallest batch size whose frames take a slot the least time, {@linkplain #EQUALLY_FAST
   * within 3%}: the model's ({@code concurrency} ÷ the measured rate) and the pipeline's share of a
   * batch ({@link #PIPELINE_MS_PER_BATCH} ÷ the size). For ResNet-18, 10–60 ms a frame, the second
   * term is noise and the fastest sizes win; for the shipped model, 1–3 ms, it weighs against
   * batches of 1 and 2. The model's term is each size's own rate, as a whole batch runs: in runs of
   * {@link #runSize} a batch is no slower alone, and the choice stays what it was before batches ran
   * in runs.
   *
   * @param points each size's rate with {@code concurrency} batches running at once
   */
  public static int choose(List<Point> points, int concurrency) {
    List<Point> measured = measured(points);
    double least = measured.stream().mapToDouble(p -> slotMs(p, concurrency)).min().orElseThrow();
    return measured.stream()
        .filter(p -> slotMs(p, concurrency) <= least * (1 + EQUALLY_FAST))
        .mapToInt(Point::batchSize)
        .min()
        .orElseThrow();
  }

  /** What a frame of a batch of this size takes of an inference slot, in milliseconds. */
  private static double slotMs(Point p, int concurrency) {
    return 1000.0 * concurrency / p.framesPerSecond() + PIPELINE_MS_PER_BATCH / p.batchSize();
  }

  /**
   * The most frames of a batch of {@code batch} one run takes: the smallest size the model ran at
   * least as fast as at {@code batch} itself. A batch's activations grow with its size, and past the
   * CPU's caches, which other threads share, each frame costs more than the measurement alone shows;
   * so a smaller run where it gives up nothing alone. For a model that runs faster with every size
   * (ResNet-18) that is the batch; for one that runs as fast at any (the shipped model, within the
   * measurement's scatter), a smaller size measures faster more often than not.
   *
   * @param points each size's rate with the same number of runs going at once
   */
  public static int runSize(List<Point> points, int batch) {
    List<Point> measured = measured(points);
    double batchRate =
        measured.stream().filter(p -> p.batchSize() == batch).mapToDouble(Point::framesPerSecond).findFirst().orElse(0);
    return measured.stream()
        .filter(p -> p.batchSize() <= batch && p.framesPerSecond() >= batchRate)
        .mapToInt(Point::batchSize)
        .min()
        .orElse(batch);
  }

  /** The points with a rate; not measured (a model slower than the rate's rounding): no case for that size. */
  private static List<Point> measured(List<Point> points) {
    if (points.isEmpty()) {
      throw new IllegalArgumentException("no batch size was measured");
    }
    List<Point> measured = points.stream().filter(p -> p.framesPerSecond() > 0).toList();
    return measured.isEmpty() ? List.of(points.get(0)) : measured;
  }

  /** 1, 2, 4, … below {@code largest}, then {@code largest}. */
  static List<Integer> sizes(int largest) {
    List<Integer> sizes = new ArrayList<>();
    for (int n = 1; n < largest; n *= 2) {
      sizes.add(n);
    }
    sizes.add(largest);
    return sizes;
  }

  /**
   * Times {@code engine} on blank {@code width}×{@code height} batches of every size up to what
   * {@code policy} allows at that size, at least {@code perSize} per size and round.
   */
  public static Result measure(
      InferenceEngine engine, int width, int height, BatchPolicy policy, int concurrency, Duration perSize) {
    List<Integer> sizes = sizes(policy.maxSizeFor((long) width * height));
    Map<Integer, Double> best = new TreeMap<>();
    ExecutorService pool =
        Executors.newFixedThreadPool(concurrency, r -> {
          Thread t = new Thread(r, "gapstream-calibrate");
          t.setDaemon(true);
          return t;
        });
    try {
      for (int round = 0; round < 2; round++) {
        List<Integer> order = new ArrayList<>(sizes);
        if (round == 1) {
          Collections.reverse(order);
        }
        for (int n : order) {
          best.merge(n, rate(pool, engine, n, width, height, concurrency, perSize), Math::max);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    List<Point> points = new ArrayList<>();
    best.forEach((n, fps) -> points.add(new Point(n, Math.round(fps * 10) / 10.0)));
    return choice(width, height, points, concurrency);
  }

  /**
   * The batch ({@link #choose}) and the run ({@link #runSize}) chosen from rates measured at {@code
   * width}×{@code height} with {@code concurrency} batches running at once.
   */
  public static Result choice(int width, int height, List<Point> points, int concurrency) {
    int chosen = choose(points, concurrency);
    return new Result(width, height, points, chosen, runSize(points, chosen));
  }

  /** Frames per second of {@code concurrency} callers each running batches of {@code n}. */
  private static double rate(
      ExecutorService pool, InferenceEngine engine, int n, int width, int height, int concurrency, Duration perSize) {
    CountDownLatch ready = new CountDownLatch(concurrency);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Double>> callers = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      callers.add(pool.submit(() -> {
        FloatBuffer batch =
            ByteBuffer.allocateDirect(n * Preprocessor.floatsPerImage(width, height) * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        try {
          engine.run(batch, n, height, width); // a shape's first run plans its memory: not timed
        } finally {
          ready.countDown();
        }
        start.await();
        long t0 = System.nanoTime();
        int runs = 0;
        long elapsed;
        do {
          engine.run(batch, n, height, width);
          runs++;
          elapsed = System.nanoTime() - t0;
        } while (elapsed < perSize.toNanos() || runs < 2);
        return runs * n / (elapsed / 1e9);
      }));
    }
    double fps = 0;
    try {
      ready.await();
      start.countDown();
      for (Future<Double> caller : callers) {
        fps += caller.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while calibrating the batch size", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("calibrating the batch size failed: " + e.getCause(), e.getCause());
    }
    return fps;
  }
}
