package dev.gapstream.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the predictions and dead-letter topics in the background and counts what came out per
 * {@code frame-id} header: predictions (with duplicates), dead letters (kept whole, headers and
 * all), and the order of predictions within each key. Thread-safe.
 */
public final class Outputs implements AutoCloseable {

  /**
   * What became of a set of frames.
   *
   * @param predicted frames with at least one prediction
   * @param deadLettered frames with a dead letter and no prediction
   * @param duplicates predictions beyond the first, summed over frames
   * @param lost frames with neither
   */
  /**
   * What the frames came to. A frame with a prediction counts as predicted; {@code duplicates}
   * counts every output of one kind past a frame's first (a second prediction, a second dead
   * letter), {@code both} the frames with a prediction and a dead letter: a replayed dead letter's
   * frame, else a frame answered twice.
   */
  public record Tally(int frames, int predicted, int deadLettered, int duplicates, int both, int lost) {
    @Override
    public String toString() {
      return String.format(
          "frames %d = predicted %d + dead letters %d (+ lost %d); duplicates %d; both answers %d",
          frames, predicted, deadLettered, lost, duplicates, both);
    }
  }

  private final String predictionsTopic;
  private final Map<String, Integer> predictions = new HashMap<>();
  private final Map<String, List<ConsumerRecord<byte[], byte[]>>> deadLetters = new HashMap<>();
  private final Map<String, List<String>> perKey = new LinkedHashMap<>();
  private final Thread reader;
  private volatile boolean stopped;

  private Outputs(String bootstrap, String predictionsTopic, String dlqTopic, Map<String, String> extra) {
    this.predictionsTopic = predictionsTopic;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "outputs-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.putAll(extra);
    reader = new Thread(() -> read(p, List.of(predictionsTopic, dlqTopic)), "outputs-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Reads {@code predictions} and {@code frames.dlq} with the default (read_uncommitted) isolation. */
  public static Outputs read(String bootstrap) {
    return new Outputs(bootstrap, "predictions", "frames.dlq", Map.of());
  }

  /** As {@link #read(String)}, with extra consumer settings (e.g. {@code isolation.level}). */
  public static Outputs read(String bootstrap, Map<String, String> consumerSettings) {
    return new Outputs(bootstrap, "predictions", "frames.dlq", consumerSettings);
  }

  private void read(Properties p, List<String> topics) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(topics);
      while (!stopped) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          add(r);
        }
      }
    }
  }

  private synchronized void add(ConsumerRecord<byte[], byte[]> r) {
    String id = header(r, "frame-id");
    if (r.topic().equals(predictionsTopic)) {
      predictions.merge(id, 1, Integer::sum);
      String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
      perKey.computeIfAbsent(key, k -> new ArrayList<>()).add(id);
    } else {
      // One sent without the frame's headers: by its source, the frame id the service gives one without.
      deadLetters.computeIfAbsent(id != null ? id : header(r, "dlq-source"), k -> new ArrayList<>()).add(r);
    }
  }

  /** A header's value as text, or null. */
  public static String header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** Waits until every id has a prediction or a dead letter; returns the tally either way. */
  public Tally await(Collection<String> ids, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Tally t = tally(ids);
    while (t.lost() > 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(200);
      t = tally(ids);
    }
    return t;
  }

  /** Waits a little longer for stragglers (duplicates arrive after the first copy), then tallies. */
  public Tally settle(Collection<String> ids, Duration quiet) throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(quiet.toMillis());
    return tally(ids);
  }

  public synchronized Tally tally(Collection<String> ids) {
    int predicted = 0;
    int dead = 0;
    int duplicates = 0;
    int both = 0;
    int lost = 0;
    for (String id : ids) {
      int n = predictions.getOrDefault(id, 0);
      int d = deadLetters.getOrDefault(id, List.of()).size();
      if (n > 0) {
        predicted++;
      } else if (d > 0) {
        dead++;
      } else {
        lost++;
      }
      duplicates += Math.max(0, n - 1) + Math.max(0, d - 1);
      if (n > 0 && d > 0) {
        both++;
      }
    }
    return new Tally(ids.size(), predicted, dead, duplicates, both, lost);
  }

  /** Predictions seen for a frame. */
  public synchronized int predictions(String id) {
    return predictions.getOrDefault(id, 0);
  }

  /** The dead letters of a frame (usually one). */
  public synchronized List<ConsumerRecord<byte[], byte[]>> deadLetters(String id) {
    return List.copyOf(deadLetters.getOrDefault(id, List.of()));
  }

  /** Every key's frame ids in the order their predictions were read. */
  public synchronized Map<String, List<String>> perKeyOrder() {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    perKey.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    return copy;
  }

  @Override
  public void close() {
    stopped = true;
    try {
      reader.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
