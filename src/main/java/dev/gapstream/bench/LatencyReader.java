package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a latency run's predictions back and records, per frame, its prediction's publish time
 * (the record's timestamp: on {@code bench}'s topics the time the broker appended it, {@code
 * LogAppendTime}; on a deployment's, whatever its topic keeps, by default the time the pipeline's
 * producer sent it) minus the frame's scheduled send time (the source timestamp the prediction
 * carries). Both are wall-clock milliseconds from this JVM, so the
 * histogram resolves to 1 ms; {@link LatencyParts} splits each frame's time into the parts its
 * prediction reports. A run's frames carry {@code frame-id} {@code <prefix><i>}; predictions of
 * other frames (another run's, a camera's on a shared topic) are passed over. Frames numbered below
 * {@code skip} (warm-up) are counted but not recorded.
 *
 * <p>{@link #readUntil} runs on its own thread, started after the constructor returns; {@link
 * #received} and {@link #expect} may be called meanwhile, the other methods after it has ended.
 */
final class LatencyReader implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String idPrefix;
  private final int skip;
  /**
   * How long the topic's metadata is waited for before the run fails, unless the client's {@code
   * default.api.timeout.ms} says otherwise (Kafka's default is a minute).
   */
  private static final Duration METADATA_WAIT = Duration.ofSeconds(15);

  private final Histogram histogram = new Histogram(3_600_000L, 3);
  private final LatencyParts parts = new LatencyParts();
  private final BitSet seen = new BitSet();
  private volatile int received;
  private volatile int expected = Integer.MAX_VALUE;
  private volatile long deadline = Long.MAX_VALUE;
  private long firstSourceMs = Long.MAX_VALUE;
  private long lastPublishMs;
  /** The least publish − scheduled time seen, before clamping at 0: below 0, the clocks differ. */
  private long leastRawMs = Long.MAX_VALUE;

  /**
   * Connects and takes the topic's current end as the start: a run on a pipeline that has served
   * earlier runs reads only its own predictions (every earlier one is back before it starts).
   */
  LatencyReader(String bootstrap, String topic, String idPrefix, int skip) {
    this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic, idPrefix, skip);
  }

  /** {@code client}: the consumer's connection properties (bootstrap servers, security). */
  LatencyReader(Map<String, ?> client, String topic, String idPrefix, int skip) {
    this.idPrefix = idPrefix;
    this.skip = skip;
    Properties p = new Properties();
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(METADATA_WAIT.toMillis()));
    p.putAll(client);
    // Latency is read from the records' timestamps, not from when they arrive here, so the reader
    // can fetch in large, infrequent chunks and leave the shared broker and cores to the pipeline.
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, String.valueOf(1 << 20));
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    // A mistyped topic is an error to report, not one to create.
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    // As a downstream reader of an exactly-once pipeline reads: an aborted transaction's predictions
    // (sent again in the next) are not what it saw. The end is still the committed copy's append,
    // before its commit: up to delivery.commit.interval.ms earlier than such a reader sees it.
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumer = new KafkaConsumer<>(p);
    try {
      List<TopicPartition> partitions;
      try {
        partitions = consumer.partitionsFor(topic).stream() // waits default.api.timeout.ms
            .map(info -> new TopicPartition(topic, info.partition()))
            .toList();
      } catch (KafkaException e) {
        // Kafka's own message names neither the brokers nor the topic.
        throw new GapstreamException(String.format(
            "cannot read predictions from topic %s at %s (do the brokers answer?): %s",
            topic, client.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG), e.getMessage()), e);
      }
      if (partitions.isEmpty()) {
        throw new GapstreamException("topic " + topic + " has no partitions: does it exist?");
      }
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // resolves the end now, before any frame is sent
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /**
   * Reads on the calling thread until {@code count} predictions are in or {@code timeout} passes
   * (or the deadline {@link #expect(int, Duration)} sets meanwhile).
   */
  void readUntil(int count, Duration timeout) {
    deadline = Math.min(deadline, System.nanoTime() + timeout.toNanos());
    readUntil(count);
  }

  /**
   * Reads on the calling thread until {@code count} predictions are in, or the deadline that {@link
   * #expect(int, Duration)} sets passes.
   */
  void readUntil(int count) {
    expected = Math.min(expected, count);
    while (received < expected && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        record(r);
      }
    }
  }

  /**
   * Lowers the count {@link #readUntil} waits for, from any thread: to the frames the broker took
   * when some sends failed.
   */
  void expect(int count) {
    expected = Math.min(expected, count);
  }

  /**
   * As {@link #expect(int)}, and {@link #readUntil} waits {@code timeout} from now at most, however
   * long it was told at its start: for a sender that knows only once it is done how many it sent.
   */
  void expect(int count, Duration timeout) {
    expected = Math.min(expected, count);
    deadline = System.nanoTime() + timeout.toNanos();
  }

  @Override
  public void close() {
    consumer.close();
  }

  private void record(ConsumerRecord<byte[], byte[]> r) {
    int i = frameNumber(r.headers().lastHeader("frame-id"));
    if (i < 0) {
      return;
    }
    if (seen.get(i)) {
      return; // a redelivery: the first publish is the latency the client saw
    }
    seen.set(i);
    Prediction prediction = PredictionJson.fromBytes(r.value());
    long sourceMs = prediction.source().timestamp();
    firstSourceMs = Math.min(firstSourceMs, sourceMs);
    lastPublishMs = Math.max(lastPublishMs, r.timestamp());
    leastRawMs = Math.min(leastRawMs, r.timestamp() - sourceMs);
    if (i >= skip) {
      long total = Math.max(0, r.timestamp() - sourceMs);
      histogram.recordValue(total);
      Prediction.Latency l = prediction.latencyMs();
      parts.add(total, l.queue(), l.inference(), l.endToEnd());
    }
    received++;
  }

  /** The frame's number when its id is one of this run's, else -1. */
  private int frameNumber(Header id) {
    if (id == null) {
      return -1;
    }
    String value = new String(id.value(), StandardCharsets.UTF_8);
    if (!value.startsWith(idPrefix)) {
      return -1;
    }
    try {
      return Integer.parseInt(value.substring(idPrefix.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  int received() {
    return received;
  }

  /** Predictions back per second, from the first frame's scheduled send to the last publish. */
  double achievedFps() {
    double seconds = Math.max(0.001, (lastPublishMs - firstSourceMs) / 1000.0);
    return Stats.round(received / seconds);
  }

  /**
   * How far the clocks stamping frames and predictions disagree at least: the most a prediction
   * was published before its frame's scheduled send, in ms; 0 when none was (or none came back).
   */
  long clockSkewMs() {
    return received == 0 ? 0 : Math.max(0, -leastRawMs);
  }

  Histogram histogram() {
    return histogram;
  }

  BenchReport.Parts parts() {
    return parts.summary();
  }

  LatencyRow row(double fraction, double offeredFps, double boundMs, double meanBatchSize, BenchReport.Cpu cpu) {
    return new LatencyRow(
        fraction,
        Stats.round(offeredFps),
        achievedFps(),
        histogram.getTotalCount(),
        histogram.getValueAtPercentile(50),
        histogram.getValueAtPercentile(99),
        histogram.getValueAtPercentile(99.9),
        histogram.getMaxValue(),
        Stats.round(boundMs),
        meanBatchSize,
        cpu,
        parts.summary());
  }
}
