package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Stages 3 and 4: the real pipeline ({@link GapstreamService}) on the shared embedded broker.
 *
 * <p>Saturation: every frame is in the topic before the pipeline starts; the time runs from the
 * first frame consumed to the last prediction acknowledged, both seen in the pipeline's own
 * counters, sampled every millisecond.
 *
 * <p>Latency: an open-loop producer sends at a fixed rate whatever the pipeline does, stamping each
 * record with its scheduled send time, so that a producer falling behind shows up as latency
 * instead of hiding it (no coordinated omission).
 */
final class PipelineStage {

  private final BenchKafka kafka;
  private final Workload workload;

  PipelineStage(BenchKafka kafka, Workload workload) {
    this.kafka = kafka;
    this.workload = workload;
  }

  Throughput saturation(boolean cam, Duration timeout) throws InterruptedException {
    BenchKafka.Topics topics = kafka.newTopics(cam ? "saturation" : "saturation-nocam");
    List<EncodedFrame> frames = workload.frames();
    kafka.preload(topics.frames(), frames);
    try (GapstreamService service = kafka.startPipeline(workload, topics, cam)) {
      PrometheusMeterRegistry registry = service.registry();
      Counter received = registry.get(GapstreamMetrics.FRAMES_RECEIVED).counter();
      Counter published = registry.get(GapstreamMetrics.PREDICTIONS_PUBLISHED).counter();
      long deadline = System.nanoTime() + timeout.toNanos();
      long first = received.count() > 0 ? System.nanoTime() : 0;
      while (published.count() + rejected(registry) < frames.size()) {
        if (System.nanoTime() > deadline) {
          throw new GapstreamException(
              "pipeline saturation run timed out after " + timeout + ": " + (long) published.count()
                  + " of " + frames.size() + " published");
        }
        TimeUnit.MILLISECONDS.sleep(1);
        if (first == 0 && received.count() > 0) {
          first = System.nanoTime();
        }
      }
      long end = System.nanoTime();
      checkNoRejects(registry);
      double seconds = (end - first) / 1e9;
      return new Throughput(
          frames.size(), Stats.round(seconds), Stats.round(frames.size() / seconds), meanBatch(registry));
    }
  }

  /**
   * Offers {@code fps} frames per second for {@code duration}; the first {@code warmup} of the
   * frames are sent but not counted (ONNX Runtime's first runs at each batch size are slow).
   */
  LatencyRow latency(double fraction, double fps, Duration duration, double warmup, double boundMs)
      throws InterruptedException {
    BenchKafka.Topics topics = kafka.newTopics("latency-" + Math.round(fraction * 100));
    int count = Math.max(2, (int) Math.round(fps * duration.toNanos() / 1e9));
    int skip = (int) (count * warmup);
    try (GapstreamService service = kafka.startPipeline(workload, topics, true)) {
      awaitReady(service, Duration.ofMinutes(1));
      LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), topics.predictions(), skip);
      Thread readerThread = new Thread(() -> reader.readUntil(count, duration.multipliedBy(3).plusSeconds(60)), "bench-latency-reader");
      readerThread.start();
      sendOpenLoop(topics.frames(), count, fps);
      readerThread.join();
      if (reader.received() < count) {
        throw new GapstreamException(
            "latency run at " + fps + " fps: " + reader.received() + " of " + count + " predictions came back");
      }
      checkNoRejects(service.registry());
      return reader.row(fraction, fps, boundMs);
    }
  }

  private void sendOpenLoop(String topic, int count, double fps) throws InterruptedException {
    List<EncodedFrame> frames = workload.frames();
    try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
      long t0 = System.nanoTime();
      long wall0 = System.currentTimeMillis();
      for (int i = 0; i < count; i++) {
        long offsetNanos = (long) (i * 1e9 / fps);
        long wait = t0 + offsetNanos - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        long scheduledMs = wall0 + TimeUnit.NANOSECONDS.toMillis(offsetNanos);
        producer.send(BenchKafka.record(topic, i, frames.get(i % frames.size()), scheduledMs));
      }
      producer.flush();
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

  private static double meanBatch(PrometheusMeterRegistry registry) {
    DistributionSummary s = registry.find(GapstreamMetrics.BATCH_SIZE).summary();
    return s == null ? Double.NaN : Stats.round(s.mean());
  }
}
