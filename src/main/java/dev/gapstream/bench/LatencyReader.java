package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.LatencyRow;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Properties;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a latency run's predictions back and records, per frame, its prediction's publish time
 * (the record timestamp the pipeline's producer set) minus the frame's scheduled send time (the
 * source timestamp the prediction carries). Both are wall-clock milliseconds from this JVM, so the
 * histogram resolves to 1 ms; {@link LatencyParts} splits each frame's time into the parts its
 * prediction reports. Frames numbered below {@code skip} (warm-up) are counted but not recorded.
 *
 * <p>{@link #readUntil} runs on its own thread, started after the constructor returns; the other
 * methods are called after it has ended.
 */
final class LatencyReader implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final int skip;
  private final Histogram histogram = new Histogram(3_600_000L, 3);
  private final LatencyParts parts = new LatencyParts();
  private final BitSet seen = new BitSet();
  private volatile int received;
  private long firstSourceMs = Long.MAX_VALUE;
  private long lastPublishMs;

  /**
   * Connects and takes the topic's current end as the start: a run on a pipeline that has served
   * earlier runs reads only its own predictions (every earlier one is back before it starts).
   */
  LatencyReader(String bootstrap, String topic, int skip) {
    this.skip = skip;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    // Latency is read from the records' timestamps, not from when they arrive here, so the reader
    // can fetch in large, infrequent chunks and leave the shared broker and cores to the pipeline.
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, String.valueOf(1 << 20));
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumer = new KafkaConsumer<>(p);
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(info -> new TopicPartition(topic, info.partition()))
          .toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // resolves the end now, before any frame is sent
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /** Reads on the calling thread until {@code count} predictions are in or {@code timeout} passes. */
  void readUntil(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (received < count && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        record(r);
      }
    }
  }

  @Override
  public void close() {
    consumer.close();
  }

  private void record(ConsumerRecord<byte[], byte[]> r) {
    Header id = r.headers().lastHeader("frame-id");
    int i = Integer.parseInt(new String(id.value(), StandardCharsets.UTF_8).substring("bench-".length()));
    if (seen.get(i)) {
      return; // a redelivery: the first publish is the latency the client saw
    }
    seen.set(i);
    Prediction prediction = PredictionJson.fromBytes(r.value());
    long sourceMs = prediction.source().timestamp();
    firstSourceMs = Math.min(firstSourceMs, sourceMs);
    lastPublishMs = Math.max(lastPublishMs, r.timestamp());
    if (i >= skip) {
      long total = Math.max(0, r.timestamp() - sourceMs);
      histogram.recordValue(total);
      Prediction.Latency l = prediction.latencyMs();
      parts.add(total, l.queue(), l.inference(), l.endToEnd());
    }
    received++;
  }

  int received() {
    return received;
  }

  LatencyRow row(double fraction, double offeredFps, double boundMs, double meanBatchSize, BenchReport.Cpu cpu) {
    double seconds = Math.max(0.001, (lastPublishMs - firstSourceMs) / 1000.0);
    return new LatencyRow(
        fraction,
        Stats.round(offeredFps),
        Stats.round(received / seconds),
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
