package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.batch.Batch;
import dev.gapstream.batch.Batcher;
import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.OffsetTracker;
import dev.gapstream.pipeline.BatchRunner;
import dev.gapstream.pipeline.Shape;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stage 2: the pipeline without Kafka. Frames are decoded on a pool of {@code
 * ingest.decode.threads}, batched by the pipeline's {@link Batcher} (same policy, same adaptive
 * "take a batch only when a slot is free"), and run by the pipeline's batch runner on {@code
 * inference.concurrency} threads, with at most {@code ingest.max.in.flight} frames in flight. One
 * loop thread owns the batcher and the counters, as the verticle's event loop does.
 */
final class InProcessStage {

  private final Workload workload;
  private final FrameDecoder decoder;
  private final BatchRunner runner;
  private final MeterRegistry runnerMetrics;
  private final int concurrency;
  private final int total;
  private final int warm;
  private final int maxInFlight;

  private final ScheduledExecutorService loop =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "bench-loop"));
  private final ExecutorService decodePool;
  private final ExecutorService inferencePool;
  private final Batcher<Shape, Frame> batcher;
  private final CountDownLatch done;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final OffsetTracker tracker = new OffsetTracker();

  // Owned by the loop thread.
  private int next;
  private int inFlight;
  private int freeSlots;
  private int finished;
  /** Batches finished, counted as {@code finished} frames are, for the mean batch of the window. */
  private long finishedBatches;
  private long warmBatches;
  /** Frames finished when the clock started: a batch's frames finish together, so at least warm. */
  private int warmFinished;
  private long warmAt;
  private ThreadCpu warmCpu;
  private ModelTime warmModel;
  private long startAt;
  private ThreadCpu startCpu;
  private ModelTime startModel;
  private ScheduledFuture<?> deadline;

  /**
   * {@code runnerMetrics}: where {@code runner} records its inference times; {@code warmFraction}:
   * the first frames left out of the rate, as stage 3 leaves them out.
   */
  InProcessStage(Workload workload, BatchRunner runner, MeterRegistry runnerMetrics, double warmFraction) {
    GapstreamConfig config = workload.config();
    this.workload = workload;
    this.decoder = workload.decoder();
    this.runner = runner;
    this.runnerMetrics = runnerMetrics;
    this.concurrency = config.inference().concurrency();
    this.total = workload.frames().size();
    this.warm = Stats.warmFrames(total, warmFraction);
    this.maxInFlight = config.ingest().maxInFlight();
    // Named, so that the CPU by thread group tells decoding from inference: as pool-N-thread both
    // came out under one name, N rising with every run.
    this.decodePool = Executors.newFixedThreadPool(config.ingest().decodeThreads(), named("bench-decode"));
    this.inferencePool = Executors.newFixedThreadPool(concurrency, named("bench-infer"));
    this.freeSlots = concurrency;
    this.batcher =
        new Batcher<>(config.batch().policy(), Shape::pixels, System::nanoTime);
    this.done = new CountDownLatch(total);
  }

  /**
   * Runs every frame through once; throws if any frame failed or the timeout passed. The rate is
   * timed from when the first {@code warmFraction} of the frames have finished; a run too short to
   * leave a window of at least two batches and {@link PipelineStage#MIN_WINDOW_MS} after that (the
   * batch that crosses the mark may hold every frame left: the window was empty, and the stage
   * reported 0 frames a second) is timed whole, as stage 3 times one.
   */
  Throughput run(Duration timeout) throws InterruptedException {
    try {
      loop.execute(() -> {
        startAt = System.nanoTime();
        startCpu = ThreadCpu.now();
        startModel = ModelTime.of(runnerMetrics);
        if (warm == 0) {
          markWarm(0);
        }
        feed();
      });
      if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new GapstreamException("in-process stage timed out after " + timeout);
      }
      long end = System.nanoTime();
      ThreadCpu cpuAfter = ThreadCpu.now();
      ModelTime modelAfter = ModelTime.of(runnerMetrics);
      if (failure.get() != null) {
        throw new GapstreamException("in-process stage failed: " + failure.get(), failure.get());
      }
      // Read on the loop thread, which owns the counters and the warm-up mark.
      return loop.submit(() -> {
        boolean fromStart =
            finishedBatches - warmBatches < 2
                || end - warmAt < TimeUnit.MILLISECONDS.toNanos(PipelineStage.MIN_WINDOW_MS);
        long from = fromStart ? startAt : warmAt;
        double seconds = (end - from) / 1e9;
        int counted = total - (fromStart ? 0 : warmFinished);
        long batches = finishedBatches - (fromStart ? 0 : warmBatches);
        return new Throughput(
            counted, Stats.round(seconds), Stats.round(counted / seconds),
            Stats.round((double) counted / Math.max(1, batches)),
            cpuAfter.since(fromStart ? startCpu : warmCpu, seconds),
            modelAfter.since(fromStart ? startModel : warmModel, counted, seconds, concurrency),
            fromStart);
      }).get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new GapstreamException("in-process stage failed: " + e.getCause(), e);
    } finally {
      loop.shutdownNow();
      decodePool.shutdownNow();
      inferencePool.shutdownNow();
    }
  }

  /** Threads called {@code prefix-1}, {@code prefix-2}, ... (within /proc's 15 characters). */
  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> new Thread(r, prefix + "-" + n.incrementAndGet());
  }

  private void markWarm(int finishedNow) {
    warmAt = System.nanoTime();
    warmFinished = finishedNow;
    warmBatches = finishedBatches;
    warmCpu = ThreadCpu.now();
    warmModel = ModelTime.of(runnerMetrics);
  }

  private void feed() {
    while (next < total && inFlight < maxInFlight) {
      int i = next++;
      inFlight++;
      Frame frame = new Frame(workload.record("frames", i), tracker, System.nanoTime());
      decodePool.execute(() -> decode(frame));
    }
  }

  /** Runs on a decode thread. */
  private void decode(Frame frame) {
    try {
      DecodedFrame pixels =
          decoder.decode(frame.record().value(), frame.header(Frame.CONTENT_TYPE_HEADER), null, null);
      frame.decoded(pixels, System.nanoTime());
      loop.execute(() -> {
        batcher.add(new Shape(pixels.width(), pixels.height()), frame);
        dispatch();
      });
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
      loop.execute(() -> finished(1));
    }
  }

  private void dispatch() {
    while (freeSlots > 0) {
      Batch<Shape, Frame> batch = batcher.takeReady();
      if (batch == null) {
        break;
      }
      freeSlots--;
      inferencePool.execute(() -> infer(batch));
    }
    if (deadline == null && freeSlots > 0) {
      batcher.nextDeadline().ifPresent(at -> deadline =
          loop.schedule(() -> {
            deadline = null;
            dispatch();
          }, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS));
    }
  }

  /** Runs on an inference thread. */
  private void infer(Batch<Shape, Frame> batch) {
    try {
      runner.run(batch);
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
    batch.items().forEach(Frame::releasePixels); // as the pipeline does once a batch has run
    loop.execute(() -> {
      freeSlots++;
      finishedBatches++;
      finished(batch.size());
      dispatch();
    });
  }

  private void finished(int frames) {
    inFlight -= frames;
    if (finished < warm && finished + frames >= warm) {
      markWarm(finished + frames);
    }
    finished += frames;
    for (int i = 0; i < frames; i++) {
      done.countDown();
    }
    feed();
  }
}
