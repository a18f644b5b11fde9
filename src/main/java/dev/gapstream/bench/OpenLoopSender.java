package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * An open-loop load: frame {@code i} is due at {@code t0 + i / fps}, whatever has come back by
 * then, and is stamped with that scheduled time. A producer, broker or pipeline falling behind
 * then shows up as latency, not as a lower offered rate (no coordinated omission).
 */
final class OpenLoopSender {

  /** What the broker made of a run's sends. */
  static final class Sends {
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Exception> firstError = new AtomicReference<>();
    private volatile long sent;
    /** Frames before this one are a warm-up: their lateness is not counted, as their latency is not. */
    private final int lateFrom;
    private volatile long lateNanosTotal;
    private volatile long lateNanosMax;

    Sends() {
      this(0);
    }

    /** Counting the sender's lag from frame {@code lateFrom}, after a warm-up the latencies leave out. */
    Sends(int lateFrom) {
      this.lateFrom = lateFrom;
    }

    long sent() {
      return sent;
    }

    long acknowledged() {
      return acknowledged.get();
    }

    long failed() {
      return failed.get();
    }

    /** The first send that failed, or null. */
    Exception firstError() {
      return firstError.get();
    }

    /**
     * How far behind its scheduled time the mean frame was handed to the producer, in ms: the
     * sender's own lag, which the latencies count (records carry their scheduled time), told apart
     * from the pipeline's.
     */
    double lateMeanMs() {
      long n = sent - lateFrom;
      return n <= 0 ? 0 : lateNanosTotal / 1e6 / n;
    }

    /** The most a frame was handed to the producer behind its scheduled time, in ms. */
    double lateMaxMs() {
      return lateNanosMax / 1e6;
    }
  }

  /** The largest record the benchmark's producers send, and its broker takes: a large frame. */
  static final int MAX_RECORD_BYTES = 16 << 20;

  private OpenLoopSender() {}

  /**
   * A producer as a camera's would be: Kafka's own default linger (5 ms since Kafka 4; with 1 ms
   * the benchmark's open-loop runs sent one request per frame, and the broker in the same JVM took
   * 16-18% of two cores at the shipped model's rates), requests of up to 16 MB for large frames.
   * The linger counts in the measured latency: records carry their scheduled send time. Batches of
   * up to 1 MB, so that the linger alone decides when a request goes: with Kafka's 16 KB two 10 KB
   * frames fill a batch, and the busier partitions (the eight camera keys hash three to each of two)
   * sent a request per frame or two, each answering the pipeline's waiting fetch.
   *
   * @param client connection properties (bootstrap servers, security); they override these
   */
  static KafkaProducer<byte[], byte[]> producer(Map<String, ?> client) {
    Properties p = new Properties();
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(1 << 20));
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(MAX_RECORD_BYTES));
    // Kafka's default, a minute, applies to every send: a missing topic would fail one a minute.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
    p.putAll(client);
    return new KafkaProducer<>(p);
  }

  /** Fails at once, saying why, when the frames cannot be sent to {@code topic}. */
  static void requireTopic(KafkaProducer<byte[], byte[]> producer, String topic) {
    try {
      producer.partitionsFor(topic);
    } catch (KafkaException e) {
      throw new GapstreamException(
          "cannot send frames to topic " + topic + " (does it exist, and do the brokers answer?): " + e.getMessage(), e);
    }
  }

  /**
   * Sends {@code count} frames at {@code fps}, cycling through {@code frames}, frame {@code i} with
   * {@code frame-id} {@code <idPrefix><i>}; returns once the producer has flushed them all.
   */
  static Sends send(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      String idPrefix,
      List<EncodedFrame> frames,
      int count,
      double fps,
      Sends sends)
      throws InterruptedException {
    long t0 = System.nanoTime();
    long wall0 = System.currentTimeMillis();
    for (int i = 0; i < count; i++) {
      long offsetNanos = (long) (i * 1e9 / fps);
      long due = t0 + offsetNanos;
      awaitNanoTime(due);
      long late = System.nanoTime() - due;
      if (i >= sends.lateFrom) {
        sends.lateNanosTotal += late; // one writer: this thread
        sends.lateNanosMax = Math.max(sends.lateNanosMax, late);
      }
      long scheduledMs = wall0 + TimeUnit.NANOSECONDS.toMillis(offsetNanos);
      producer.send(
          BenchKafka.record(topic, idPrefix, i, frames.get(i % frames.size()), scheduledMs),
          (meta, e) -> {
            if (e == null) {
              sends.acknowledged.incrementAndGet();
            } else {
              sends.failed.incrementAndGet();
              sends.firstError.compareAndSet(null, e);
            }
          });
      sends.sent = i + 1;
    }
    producer.flush();
    return sends;
  }

  /**
   * Parks until {@code System.nanoTime()} reaches {@code due}. Not {@code TimeUnit.sleep}: on JDK
   * 17 it rounds any part of a millisecond up to a whole one (0.3 ms asked took 2.4 ms here), so
   * frames left 0.55-0.67 ms behind schedule on average at 300-2,500 frames/s, and in bursts once
   * the gap between frames was under a millisecond; parked, 0.11-0.16 ms (measured side by side,
   * docs/benchmark-log.md). The lateness counts as latency: records carry their scheduled time.
   */
  static void awaitNanoTime(long due) throws InterruptedException {
    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
      LockSupport.parkNanos(wait);
      if (Thread.interrupted()) {
        throw new InterruptedException("open-loop sender interrupted");
      }
    }
  }
}
