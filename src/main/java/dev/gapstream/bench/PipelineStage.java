package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Stages 3 and 4: the real pipeline ({@link GapstreamService}) on the shared embedded broker.
 *
 * <p>Saturation: the frames are all in the topic, and the service past its warm-up, when the
 * timing starts; it ends with the last prediction acknowledged, both seen in the pipeline's own
 * counters, sampled every {@value #SAMPLE_MS} ms.
 *
 * <p>Latency: an open-loop producer sends at a fixed rate whatever the pipeline does, stamping each
 * record with its scheduled send time, so that a producer falling behind shows up as latency
 * instead of hiding it (no coordinated omission).
 */
final class PipelineStage {

  /**
   * How often the saturation run reads the counters: ±10 ms on a window of seconds, and few enough
   * wake-ups not to take the cores from the pipeline (every millisecond, the bench's own thread woke
   * a thousand times a second next to ONNX Runtime's two).
   */
  static final long SAMPLE_MS = 10;

  /** The shortest steady window timed apart from the run's start (see {@link #saturation}). */
  static final long MIN_WINDOW_MS = 200;

  private final BenchKafka kafka;
  private final Workload workload;

  PipelineStage(BenchKafka kafka, Workload workload) {
    this.kafka = kafka;
    this.workload = workload;
  }

  /**
   * Runs every frame through a fresh pipeline and returns its steady-state rate. The service
   * starts on empty topics; once it is ready the frames are written as fast as the producer goes
   * (far faster than any model consumes them), and the rate is timed from the moment they are all
   * in the topic and the first {@code warmFraction} of them have been published (a fresh service's
   * first batches pay for ONNX Runtime's first runs at each batch size and for the JIT; stage 1
   * leaves its warm-up runs out too) to the last prediction acknowledged. A run too short to reach
   * that moment before it ends, or to go on {@link #MIN_WINDOW_MS} after it (a smoke run: a window
   * of one sample read no CPU time, the CPUs' clock ticking every 10 ms), is timed whole, from the
   * first frame written.
   */
  Throughput saturation(boolean cam, double warmFraction, Duration timeout) throws InterruptedException {
    return saturation(cam, Map.of(), warmFraction, timeout);
  }

  /** The same with configuration keys set over the workload's ({@code bench --compare}). */
  Throughput saturation(boolean cam, Map<String, String> overrides, double warmFraction, Duration timeout)
      throws InterruptedException {
    BenchKafka.Topics topics = kafka.newTopics(cam ? "saturation" : "saturation-nocam");
    List<EncodedFrame> frames = workload.frames();
    int warm = Stats.warmFrames(frames.size(), warmFraction);
    GapstreamConfig config = kafka.pipelineConfig(workload, topics, cam, overrides);
    try (GapstreamService service = GapstreamService.start(config)) {
      awaitReady(service, Duration.ofMinutes(1));
      PrometheusMeterRegistry registry = service.registry();
      Counter published = registry.get(GapstreamMetrics.PREDICTIONS_PUBLISHED).counter();
      ThreadCpu cpu0 = ThreadCpu.now();
      ModelTime model0 = ModelTime.of(registry);
      BatchSizes batches0 = BatchSizes.of(registry);
      long start0 = System.nanoTime();
      ThreadCpu cpu = cpu0;
      ModelTime model = model0;
      BatchSizes batches = batches0;
      long start = start0;
      double startCount = 0;
      AtomicBoolean loaded = new AtomicBoolean();
      AtomicReference<RuntimeException> loadFailure = new AtomicReference<>();
      Thread loader = new Thread(() -> {
        try {
          kafka.preload(topics.frames(), frames);
          loaded.set(true);
        } catch (RuntimeException e) {
          loadFailure.set(e);
        }
      }, "bench-preload");
      loader.start();
      long deadline = start + timeout.toNanos();
      boolean steady = false;
      double done;
      while ((done = published.count() + rejected(registry)) < frames.size()) {
        if (loadFailure.get() != null) {
          throw loadFailure.get();
        }
        if (System.nanoTime() > deadline) {
          throw new GapstreamException(
              "pipeline saturation run timed out after " + timeout + ": " + (long) published.count()
                  + " of " + frames.size() + " published");
        }
        if (!steady && loaded.get() && done >= warm) {
          steady = true;
          start = System.nanoTime();
          startCount = done;
          cpu = ThreadCpu.now();
          model = ModelTime.of(registry);
          batches = BatchSizes.of(registry);
        }
        TimeUnit.MILLISECONDS.sleep(SAMPLE_MS);
      }
      long end = System.nanoTime();
      // Timed whole where the window never opened (every frame out before the preload had
      // returned: its last acknowledgements came after the predictions) or is too short to time.
      boolean fromStart = !steady || end - start < TimeUnit.MILLISECONDS.toNanos(MIN_WINDOW_MS);
      if (fromStart) {
        start = start0;
        startCount = 0;
        cpu = cpu0;
        model = model0;
        batches = batches0;
      }
      ThreadCpu cpuAfter = ThreadCpu.now();
      ModelTime modelAfter = ModelTime.of(registry);
      loader.join();
      checkNoRejects(registry);
      double seconds = (end - start) / 1e9;
      double counted = frames.size() - startCount;
      return new Throughput(
          (long) counted, Stats.round(seconds), Stats.round(counted / seconds), BatchSizes.of(registry).meanSince(batches),
          cpuAfter.since(cpu, seconds),
          modelAfter.since(model, (long) counted, seconds, config.inference().concurrency()),
          fromStart);
    }
  }

  /**
   * Starts a pipeline on fresh topics for one load's latency runs. Each run offers frames to the
   * same service, so a run after the first measures a service that has been taking this traffic
   * (ONNX Runtime's first runs at each batch size done, its Kafka clients connected), as a
   * long-running one would be, not one that starts with a backlog of its own start-up.
   */
  LatencyService latencyService(double fraction) throws InterruptedException {
    return latencyService(fraction, Map.of());
  }

  /** The same with configuration keys set over the workload's ({@code bench --compare}). */
  LatencyService latencyService(double fraction, Map<String, String> overrides) throws InterruptedException {
    BenchKafka.Topics topics = kafka.newTopics("latency-" + Math.round(fraction * 100));
    GapstreamService service = GapstreamService.start(kafka.pipelineConfig(workload, topics, true, overrides));
    try {
      awaitReady(service, Duration.ofMinutes(1));
      return new LatencyService(topics, service);
    } catch (InterruptedException | RuntimeException e) {
      service.close();
      throw e;
    }
  }

  /** One pipeline kept running across a load's latency runs (or a load search's). */
  final class LatencyService implements AutoCloseable {
    private final BenchKafka.Topics topics;
    private final GapstreamService service;
    /** Runs so far on this service: each run's frame ids carry its number. */
    private int runs;

    private LatencyService(BenchKafka.Topics topics, GapstreamService service) {
      this.topics = topics;
      this.service = service;
    }

    /**
     * Offers {@code fraction} of {@code saturatedFps} frames per second for {@code duration} and
     * reads their predictions back; the first {@code warmup} of the frames are sent but not
     * counted. Returns when every prediction is back, so the next run starts on an idle pipeline.
     */
    LatencyRow run(double fraction, double saturatedFps, Duration duration, double warmup, double boundMs)
        throws InterruptedException {
      double fps = fraction * saturatedFps;
      double frames = fps * duration.toNanos() / 1e9;
      if (frames > OpenLoad.MAX_FRAMES) { // the int below kept the low 32 bits: a 2-frame run
        throw new GapstreamException(String.format(Locale.ROOT,
            "a latency run at %.0f frames/s for %s would be over %d frames", fps, duration, OpenLoad.MAX_FRAMES));
      }
      int count = Math.max(2, (int) Math.round(frames));
      int skip = (int) (count * warmup);
      PrometheusMeterRegistry registry = service.registry();
      BatchSizes batches = BatchSizes.of(registry);
      // Ids of this run's own: a prediction of an earlier run's frame i (one published again after
      // a rebalance) would otherwise count as this run's frame i.
      String ids = BenchKafka.FRAME_ID_PREFIX + "run" + (++runs) + "-";
      try (LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), topics.predictions(), ids, skip)) {
        Thread readerThread =
            new Thread(() -> reader.readUntil(count, duration.multipliedBy(3).plusSeconds(60)), "bench-latency-reader");
        ThreadCpu cpu = ThreadCpu.now();
        long start = System.nanoTime();
        readerThread.start();
        try {
          sendOpenLoop(topics.frames(), ids, count, fps);
        } catch (RuntimeException | InterruptedException e) {
          reader.expect(0); // the reader ends within a poll, before its consumer is closed here
          readerThread.join();
          throw e;
        }
        readerThread.join();
        BenchReport.Cpu used = ThreadCpu.now().since(cpu, (System.nanoTime() - start) / 1e9);
        if (reader.received() < count) {
          throw new GapstreamException(
              "latency run at " + fps + " fps: " + reader.received() + " of " + count + " predictions came back");
        }
        checkNoRejects(registry);
        return reader.row(fraction, fps, boundMs, BatchSizes.of(registry).meanSince(batches), used);
      }
    }

    @Override
    public void close() {
      service.close();
    }
  }

  /** The batch-size summary's count and total at one moment, for the mean batch of a run. */
  private record BatchSizes(long count, double total) {
    static BatchSizes of(PrometheusMeterRegistry registry) {
      DistributionSummary s = registry.find(GapstreamMetrics.BATCH_SIZE).summary();
      return s == null ? new BatchSizes(0, 0) : new BatchSizes(s.count(), s.totalAmount());
    }

    double meanSince(BatchSizes before) {
      long n = count - before.count;
      return n == 0 ? Double.NaN : Stats.round((total - before.total) / n);
    }
  }

  private void sendOpenLoop(String topic, String ids, int count, double fps) throws InterruptedException {
    try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
      OpenLoopSender.Sends sends =
          OpenLoopSender.send(producer, topic, ids, workload.frames(), count, fps, new OpenLoopSender.Sends());
      if (sends.failed() > 0) {
        throw new GapstreamException(sends.failed() + " frames could not be sent: " + sends.firstError());
      }
    }
  }

  private static void awaitReady(GapstreamService service, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!service.health().isReady()) {
      if (System.nanoTime() > deadline) {
        throw new GapstreamException("pipeline not ready after " + timeout + ": " + service.health().checks());
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  private static double rejected(PrometheusMeterRegistry registry) {
    return registry.find(GapstreamMetrics.FRAMES_REJECTED).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static void checkNoRejects(PrometheusMeterRegistry registry) {
    double rejected = rejected(registry);
    if (rejected > 0) {
      throw new GapstreamException(
          (long) rejected + " frames were dead-lettered: the benchmark's frames must all be valid");
    }
  }
}
