package dev.gapstream.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The pipeline's view of its meters: one method per event, no meter names in pipeline code. Made by
 * {@link GapstreamMetrics#pipeline()}; every method is thread safe and cheap (meters are looked up
 * once). Durations are nanoseconds unless the name says otherwise; arguments are non-null.
 */
public final class PipelineMetrics {
  private final MeterRegistry registry;
  private final DeprecatedTopicMeters deprecatedTopics;
  private final Counter received;
  private final Counter published;
  private final Counter transactionsResent;
  private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
  private final DistributionSummary batchSize;
  private final Timer batchWait;
  private final Timer decode;
  private final Timer inference;
  private final Timer batchTensor;
  private final Timer batchResults;
  private final Timer endToEnd;
  private final DistributionSummary camPeakX;
  private final DistributionSummary camPeakY;
  private final DistributionSummary camHeatInBox;
  private final AtomicReference<IntSupplier> inFlight = new AtomicReference<>(() -> 0);
  private final AtomicReference<BooleanSupplier> paused = new AtomicReference<>(() -> false);
  private final AtomicReference<BooleanSupplier> ready = new AtomicReference<>(() -> false);
  private final AtomicReference<Meter> modelInfo = new AtomicReference<>();
  private final AtomicLong batchMaxFrames = new AtomicLong();
  private final AtomicLong batchMaxPixels = new AtomicLong();
  private final AtomicLong batchRunMaxPixels = new AtomicLong();
  private final AtomicLong calibratedFrames = new AtomicLong();
  private final Map<Integer, AtomicReference<Double>> calibrationRates = new ConcurrentHashMap<>();

  PipelineMetrics(MeterRegistry registry, DeprecatedTopicMeters deprecatedTopics) {
    this.registry = registry;
    this.deprecatedTopics = deprecatedTopics;
    received = MeterDefinitions.framesReceived().register(registry);
    published = MeterDefinitions.predictionsPublished().register(registry);
    transactionsResent = MeterDefinitions.transactionsResent().register(registry);
    // Known reasons start at 0 so rate() and alerts work before the first rejection.
    MeterDefinitions.DLQ_REASONS.forEach(this::rejectedCounter);
    batchSize = MeterDefinitions.batchSize().register(registry);
    batchWait = MeterDefinitions.batchWait().register(registry);
    decode = MeterDefinitions.decode().register(registry);
    inference = MeterDefinitions.inference().register(registry);
    batchTensor = MeterDefinitions.batchTensor().register(registry);
    batchResults = MeterDefinitions.batchResults().register(registry);
    endToEnd = MeterDefinitions.endToEnd().register(registry);
    camPeakX =
        MeterDefinitions.camFraction(
                GapstreamMetrics.CAM_PEAK_X, "CAM peak position, percent of the frame's width")
            .register(registry);
    camPeakY =
        MeterDefinitions.camFraction(
                GapstreamMetrics.CAM_PEAK_Y, "CAM peak position, percent of the frame's height")
            .register(registry);
    camHeatInBox =
        MeterDefinitions.camFraction(
                GapstreamMetrics.CAM_HEAT_IN_BOX, "Share of the CAM's heat inside its box, percent")
            .register(registry);
    Gauge.builder(GapstreamMetrics.FRAMES_IN_FLIGHT, inFlight, s -> s.get().getAsInt())
        .description("Frames consumed but not yet published or dead-lettered")
        .baseUnit(GapstreamMetrics.UNIT_FRAMES)
        .strongReference(true)
        .register(registry);
    Gauge.builder(GapstreamMetrics.CONSUMER_PAUSED, paused, s -> s.get().getAsBoolean() ? 1 : 0)
        .description("1 while the frames consumer is paused for backpressure, else 0")
        .strongReference(true)
        .register(registry);
    Gauge.builder(GapstreamMetrics.READY, ready, s -> s.get().getAsBoolean() ? 1 : 0)
        .description("1 while /health/ready answers 200, else 0 (which check is down: /health/ready)")
        .strongReference(true)
        .register(registry);
  }

  /** Where one prediction's class activation map peaked, and the share of its heat in its box. */
  public void recordCam(double peakX, double peakY, double heatInBox) {
    camPeakX.record(percent(peakX));
    camPeakY.record(percent(peakY));
    camHeatInBox.record(percent(heatInBox));
  }

  /** To a tenth of a percent, so that 0.3 is 30, not 30.000000000000004 (rounded up to 31). */
  private static double percent(double fraction) {
    return Math.rint(fraction * 1000) / 10;
  }

  /**
   * Binds the pipeline's native Kafka clients' metrics (consumer lag, fetch and send rates), tagged
   * {@code client=consumer|producer}, each of {@code topics} (those the clients read and write)
   * once. Close the handle before closing the clients.
   */
  public AutoCloseable bindKafkaClients(
      org.apache.kafka.clients.consumer.Consumer<?, ?> consumer,
      org.apache.kafka.clients.producer.Producer<?, ?> producer,
      java.util.Collection<String> topics) {
    deprecatedTopics.topics(topics);
    var consumerMetrics = new KafkaClientMeters(consumer, io.micrometer.core.instrument.Tags.of("client", "consumer"));
    var producerMetrics = new KafkaClientMeters(producer, io.micrometer.core.instrument.Tags.of("client", "producer"));
    GapstreamMetrics.Binding both = () -> {
      try {
        consumerMetrics.close();
      } finally {
        producerMetrics.close();
      }
    };
    try {
      consumerMetrics.bindTo(registry);
      producerMetrics.bindTo(registry);
      return both;
    } catch (RuntimeException e) {
      both.close(); // and their refresh threads
      throw e;
    }
  }

  /** One record was taken from the frames topic. */
  public void frameReceived() {
    received.increment();
  }

  /**
   * One frame's dead letter is durable (acknowledged by the broker; in exactly-once mode, its
   * transaction committed); {@code reason} is a DLQ reason such as {@code decode-error}.
   */
  public void frameRejected(String reason) {
    rejectedCounter(Objects.requireNonNull(reason, "reason")).increment();
  }

  /**
   * One prediction is there for good: acknowledged by the broker, and in exactly-once mode its
   * transaction committed (one aborted is sent again after the restart, and counted then).
   */
  public void predictionPublished() {
    published.increment();
  }

  /**
   * Exactly-once: a transaction's offsets were refused because the group had moved to a new
   * generation while it was open (a cooperative rebalance), and its outputs went out again in a new
   * one.
   */
  public void transactionResent() {
    transactionsResent.increment();
  }

  /**
   * A send to {@code topic} failed: the output waits to be sent again (at-least-once; a prediction
   * refused as too large is dead-lettered instead) or the pipeline stops for a restart
   * (exactly-once). Counted by the error's {@linkplain #errorName name},
   * which says what to fix: {@code TopicAuthorizationException} an ACL, {@code TimeoutException} a
   * broker away or a partition without enough in-sync replicas.
   */
  public void publishFailed(String topic, Throwable error) {
    MeterDefinitions.publishFailures(topic, errorName(error)).register(registry).increment();
  }

  /**
   * The simple class name of the first Kafka exception in {@code error}'s causes, else of {@code
   * error} itself: a label of few values (Kafka's errors are classes, one per cause), where the
   * message would be one per record.
   */
  static String errorName(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t.getClass().getName().startsWith("org.apache.kafka.")) {
        return t.getClass().getSimpleName();
      }
    }
    return error.getClass().getSimpleName();
  }

  /** A batch of {@code size} frames closed after its first frame waited {@code waitNanos}. */
  public void recordBatch(int size, long waitNanos) {
    batchSize.record(size);
    batchWait.record(waitNanos, TimeUnit.NANOSECONDS);
  }

  /** Decoding one frame took {@code nanos}. */
  public void recordDecode(long nanos) {
    decode.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** One batch's inference took {@code nanos}: its runs, summed. */
  public void recordInference(long nanos) {
    inference.record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * An inference worker's own part of one batch before each run {@link #recordInference} times:
   * filling the input tensor took {@code nanos}, summed over the runs. A GPU shortens the runs, not
   * this nor {@link #recordBatchResults}; where they outweigh them, more inference slots ({@code
   * inference.concurrency}) raise the throughput.
   */
  public void recordBatchTensor(long nanos) {
    batchTensor.record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * An inference worker's own part of one batch after each run: turning the outputs into
   * predictions took {@code nanos}, summed over the runs.
   */
  public void recordBatchResults(long nanos) {
    batchResults.record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * From the record's timestamp to its prediction being there to stay, in milliseconds: its
   * acknowledgement, or in exactly-once mode its transaction's commit.
   */
  public void recordEndToEnd(long millis) {
    // Clocks of producer and broker can disagree; a negative span means "no measurable delay".
    endToEnd.record(Math.max(0, millis), TimeUnit.MILLISECONDS);
  }

  /** Where the in-flight gauge reads from; called on scrape threads, so it must be thread safe. */
  public void setInFlightSupplier(IntSupplier supplier) {
    inFlight.set(Objects.requireNonNull(supplier));
  }

  /** Where the paused gauge reads from; called on scrape threads, so it must be thread safe. */
  public void setPausedSupplier(BooleanSupplier supplier) {
    paused.set(Objects.requireNonNull(supplier));
  }

  /** Where the readiness gauge reads from; called on scrape threads, so it must be thread safe. */
  public void setReadySupplier(BooleanSupplier supplier) {
    ready.set(Objects.requireNonNull(supplier));
  }

  /** Publishes {@code gapstream_model_info{model,version,head} 1}, replacing an earlier model. */
  public void modelInfo(String name, String version, String head) {
    Meter meter =
        Gauge.builder(GapstreamMetrics.MODEL_INFO, () -> 1)
            .description("The loaded model; always 1, the labels carry the information")
            .tag(GapstreamMetrics.TAG_MODEL, name)
            .tag(GapstreamMetrics.TAG_VERSION, version)
            .tag(GapstreamMetrics.TAG_HEAD, head)
            .register(registry);
    Meter previous = modelInfo.getAndSet(meter);
    if (previous != null && !previous.getId().equals(meter.getId())) {
      registry.remove(previous);
    }
  }

  /**
   * Publishes the batch limits in force, {@code gapstream_batch_max_frames}, {@code
   * gapstream_batch_max_pixels} and {@code gapstream_batch_run_max_pixels} ({@code +Inf} for no pixel
   * bound): with {@code batch.calibrate} the pixel bounds are the calibrated ones, which differ
   * between nodes of different CPUs.
   */
  public void batchLimits(int maxFrames, long maxPixels, long runMaxPixels) {
    batchMaxFrames.set(maxFrames);
    batchMaxPixels.set(maxPixels);
    batchRunMaxPixels.set(runMaxPixels);
    Gauge.builder(GapstreamMetrics.BATCH_MAX_FRAMES, batchMaxFrames, AtomicLong::doubleValue)
        .description("Frames per inference batch at most (batch.max.size)")
        .baseUnit(GapstreamMetrics.UNIT_FRAMES)
        .strongReference(true)
        .register(registry);
    Gauge.builder(GapstreamMetrics.BATCH_MAX_PIXELS, batchMaxPixels, PipelineMetrics::pixelBound)
        .description("Pixels per inference batch at most, as calibrated at start-up or configured")
        .strongReference(true)
        .register(registry);
    Gauge.builder(GapstreamMetrics.BATCH_RUN_MAX_PIXELS, batchRunMaxPixels, PipelineMetrics::pixelBound)
        .description("Pixels of a batch one ONNX Runtime run takes at most, as calibrated at start-up or configured")
        .strongReference(true)
        .register(registry);
  }

  /** A pixel bound as a gauge reads it: {@code +Inf} for none ({@link Long#MAX_VALUE}). */
  private static double pixelBound(AtomicLong pixels) {
    long v = pixels.get();
    return v == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : v;
  }

  /**
   * Publishes what start-up calibration measured: {@code
   * gapstream_batch_calibration_frames_per_second{batch}}, the model's rate at each batch size
   * tried, and {@code gapstream_batch_calibrated_frames}, the batch size chosen (at the size
   * calibrated, which the log names).
   */
  public void batchCalibration(Map<Integer, Double> framesPerSecondByBatch, int chosen) {
    calibratedFrames.set(chosen);
    Gauge.builder(GapstreamMetrics.BATCH_CALIBRATED_FRAMES, calibratedFrames, AtomicLong::doubleValue)
        .description("Frames per batch chosen by start-up calibration, at its frame size")
        .baseUnit(GapstreamMetrics.UNIT_FRAMES)
        .strongReference(true)
        .register(registry);
    framesPerSecondByBatch.forEach((batch, rate) -> {
      AtomicReference<Double> holder =
          calibrationRates.computeIfAbsent(batch, b -> {
            AtomicReference<Double> h = new AtomicReference<>(Double.NaN);
            Gauge.builder(GapstreamMetrics.BATCH_CALIBRATION_RATE, h, AtomicReference::get)
                .description("The model's frames per second at this batch size, measured at start-up")
                .tag(GapstreamMetrics.TAG_BATCH, Integer.toString(b))
                .strongReference(true)
                .register(registry);
            return h;
          });
      holder.set(rate);
    });
  }

  private Counter rejectedCounter(String reason) {
    return rejected.computeIfAbsent(
        reason, r -> MeterDefinitions.framesRejected(r).register(registry));
  }
}
