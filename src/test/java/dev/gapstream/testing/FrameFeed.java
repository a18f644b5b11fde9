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
   * Sends frames from {@code from} on at {@code perSecond} on a thread of its own, for as long as a
   * test needs frames coming (a rebalance, a frozen replica), until {@link Stream#stopAfter}.
   */
  public Stream stream(int from, double perSecond) {
    return new Stream(from, perSecond);
  }

  /** Frames being sent, numbered from where {@link #stream} began. */
  public final class Stream {
    /** A bound on a stream nobody stops (a test that failed before it could). */
    private static final int MOST = 100_000;

    private final int from;
    private final AtomicInteger next;
    private volatile int end = Integer.MAX_VALUE;
    private final CompletableFuture<Void> sending;

    private Stream(int from, double perSecond) {
      this.from = from;
      this.next = new AtomicInteger(from);
      this.sending = CompletableFuture.runAsync(() -> {
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of())) {
          long t0 = System.nanoTime();
          for (int i = from; i < Math.min(end, from + MOST); i = next.incrementAndGet()) {
            long wait = t0 + (long) ((i - from) * 1e9 / perSecond) - System.nanoTime();
            TimeUnit.NANOSECONDS.sleep(Math.max(0, wait));
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
      return next.get() - from;
    }

    /**
     * Sends {@code more} frames yet, then stops and waits for the broker's acknowledgements.
     *
     * @return the end of what was sent: frames {@code [from, end)}
     */
    public int stopAfter(int more, Duration timeout) throws Exception {
      end = next.get() + more;
      sending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return next.get();
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
