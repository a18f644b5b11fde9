package dev.gapstream.testing;

import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends numbered JPEG frames for the robustness tests: {@code frame-id} {@code <run>-<i>}, key
 * {@code camera-<i mod keys>}. A small pool of distinct images is encoded once and reused, since
 * encoding, not sending, is what costs on a small machine; the counts are what the tests check.
 */
public final class FrameFeed {

  private final String bootstrap;
  private final String topic;
  private final String run;
  private final int keys;
  private final List<byte[]> jpegs;

  public FrameFeed(String bootstrap, String topic, String run, int keys, List<byte[]> jpegs) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.run = run;
    this.keys = keys;
    this.jpegs = List.copyOf(jpegs);
  }

  /** {@code count} distinct synthetic JPEGs of one size, seeded. */
  public static List<byte[]> jpegs(int count, int width, int height, long seed) {
    SyntheticFrames frames = new SyntheticFrames(seed, List.of(new FrameSize(width, height)));
    List<byte[]> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(frames.next().encode("jpeg"));
    }
    return out;
  }

  /** The frame id of frame {@code i}. */
  public String id(int i) {
    return run + "-" + i;
  }

  /** The ids of frames {@code [0, count)}. */
  public List<String> ids(int count) {
    List<String> ids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ids.add(id(i));
    }
    return ids;
  }

  /** Frame {@code i} as a record. */
  public ProducerRecord<byte[], byte[]> record(int i) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, bytes("camera-" + (i % keys)), jpegs.get(i % jpegs.size()));
    r.headers().add("frame-id", bytes(id(i)));
    r.headers().add("content-type", bytes("image/jpeg"));
    return r;
  }

  /**
   * Sends frames {@code [from, to)} and waits for the broker's acknowledgements.
   *
   * @param perSecond the rate, or 0 for as fast as the producer goes
   */
  public void send(int from, int to, double perSecond) throws InterruptedException {
    try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of())) {
      long t0 = System.nanoTime();
      for (int i = from; i < to; i++) {
        if (perSecond > 0) {
          long wait = t0 + (long) ((i - from) * 1e9 / perSecond) - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
        producer.send(record(i));
      }
      producer.flush();
    }
  }

  /**
   * Sends frames 0, 1, 2, ... at {@code perSecond} on a thread of its own, for as long as a test
   * needs frames coming (a rebalance, a frozen replica), until {@link Stream#stopAfter}; closing
   * it stops it at once (a test that failed before it could stop it).
   */
  public Stream stream(double perSecond) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("a stream needs a rate: " + perSecond);
    }
    return new Stream(perSecond);
  }

  /** Frames being sent, from frame 0. */
  public final class Stream implements AutoCloseable {
    /** A bound on a stream nobody stops. */
    private static final int MOST = 100_000;

    private final AtomicInteger next = new AtomicInteger();
    private volatile int end = MOST;
    private final CompletableFuture<Void> sending;

    private Stream(double perSecond) {
      this.sending = CompletableFuture.runAsync(() -> {
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of())) {
          long t0 = System.nanoTime();
          for (int i = 0; i < end; i = next.incrementAndGet()) {
            TimeUnit.NANOSECONDS.sleep(Math.max(0, t0 + (long) (i * 1e9 / perSecond) - System.nanoTime()));
            producer.send(record(i));
          }
          producer.flush();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }

    /** Frames sent so far. */
    public int sent() {
      return next.get();
    }

    /**
     * Sends {@code more} frames yet, then stops and waits for the broker's acknowledgements.
     *
     * @return the ids of every frame sent
     */
    public List<String> stopAfter(int more, Duration timeout) throws Exception {
      end = Math.min(end, next.get() + more);
      sending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return ids(next.get());
    }

    @Override
    public void close() {
      end = 0;
    }
  }

  /** A byte-array producer that waits for every replica and never duplicates on retry. */
  public static KafkaProducer<byte[], byte[]> producer(String bootstrap, Map<String, String> extra) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.putAll(extra);
    return new KafkaProducer<>(p);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
