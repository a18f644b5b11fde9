package dev.gapstream.cli;

import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Drives a running pipeline with synthetic labelled frames and scores what comes out: the demo's
 * work, reused by integration tests. Frames are generated and JPEG-encoded before the clock starts,
 * {@link #POOL_BYTES} of them at most, then sent in turn, each with a {@code frame-id} of {@code
 * demo-<run>-<i>} and key {@code camera-<i mod 8>}; predictions and dead letters are read back from
 * their topics (those of other runs there are not counted).
 */
public final class Demo {

  /** The figures {@code demo} prints as its last line. */
  public record Summary(
      long frames,
      long predictions,
      long deadLetters,
      long duplicates,
      double accuracy,
      double throughputFps,
      double p50Ms,
      double p99Ms,
      double meanBatchSize) {}

  /**
   * Encoded frames a run holds at most, in bytes; past them it sends the same frames again, in turn.
   * Holding all of them, 2,000 noisy 1920x1080 frames took a gigabyte of the heap the pipeline runs in.
   */
  static final long POOL_BYTES = 64L << 20;

  private final GapstreamService service;
  private final int frames;
  private final double rate;
  private final long seed;
  private final List<FrameSize> sizes;
  private final long poolBytes;

  /** Frames of the camera-like mixed sizes, 64×64 to 256×256. */
  public Demo(GapstreamService service, int frames, double rate, long seed) {
    this(service, frames, rate, seed, SyntheticFrames.DEFAULT_SIZES);
  }

  /** Frames of the given sizes, each frame's picked at random. */
  public Demo(GapstreamService service, int frames, double rate, long seed, List<FrameSize> sizes) {
    this(service, frames, rate, seed, sizes, POOL_BYTES);
  }

  /** Holding {@code poolBytes} of encoded frames at most (at least one frame). */
  Demo(GapstreamService service, int frames, double rate, long seed, List<FrameSize> sizes, long poolBytes) {
    this.poolBytes = poolBytes;
    this.service = service;
    this.frames = frames;
    this.rate = rate;
    this.seed = seed;
    this.sizes = List.copyOf(sizes);
  }

  /**
   * Sends the frames, waits until each has a prediction or a dead letter (or the timeout passes),
   * and returns the summary. {@code progress} is called with a status line about twice a second
   * while frames go out and come back, and every 100 frames while they are generated first.
   */
  public Summary run(Duration timeout, Consumer<String> progress) throws InterruptedException {
    List<byte[]> encoded = new ArrayList<>();
    List<Integer> encodedLabels = new ArrayList<>();
    SyntheticFrames generator = new SyntheticFrames(seed, sizes);
    long held = 0;
    while (encoded.size() < frames && held < poolBytes) {
      if (encoded.size() % 100 == 0) {
        progress.accept(String.format("generating frames %d/%d", encoded.size(), frames));
      }
      SyntheticFrame frame = generator.next();
      encoded.add(frame.encode("jpeg"));
      encodedLabels.add(frame.label());
      held += encoded.get(encoded.size() - 1).length;
    }
    int[] labels = new int[frames];
    for (int i = 0; i < frames; i++) {
      labels[i] = encodedLabels.get(i % encoded.size());
    }
    // This run's own: the topics may hold an earlier run's outputs (a kept kafka.embedded.dir, a
    // cluster), which the reader, starting from the earliest offsets, must not count.
    String prefix = "demo-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    Scoreboard board = new Scoreboard(labels, prefix);
    Thread reader = new Thread(() -> read(board), "demo-reader");
    reader.start();
    long start = System.currentTimeMillis();
    try {
      send(encoded, prefix, board, progress, start);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (board.finished() < frames && board.failure() == null && System.nanoTime() < deadline) {
        progress.accept(board.status(start));
        TimeUnit.MILLISECONDS.sleep(500);
      }
    } finally { // interrupted or failed too: the reader and its consumer go with the run
      board.stop();
      reader.join();
    }
    if (board.failure() != null) {
      throw new IllegalStateException("reading the predictions back failed: " + board.failure(), board.failure());
    }
    progress.accept(board.status(start));
    var batches = service.registry().find(GapstreamMetrics.BATCH_SIZE).summary();
    return board.summary(start, batches == null ? 0.0 : batches.mean());
  }

  /** Sends the run's frames, frame {@code i} the {@code i mod n}th of the {@code n} encoded. */
  private void send(List<byte[]> encoded, String prefix, Scoreboard board, Consumer<String> progress, long start)
      throws InterruptedException {
    String topic = service.config().topics().frames();
    // Requests as large as the frames the pipeline takes (Kafka's default is 1 MiB), and every
    // failed send counted: before, a frame over the default went nowhere, and the run waited out
    // --timeout to report it unanswered.
    Properties p = FrameProducers.config(
        service.config().ingest().maxFrameBytes(),
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers()));
    AtomicLong failed = new AtomicLong();
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    long t0 = System.nanoTime();
    long lastStatus = t0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < frames && board.failure() == null; i++) { // a failed reader ends the run now
        if (rate > 0) {
          long wait = t0 + (long) (i * 1e9 / rate) - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
        ProducerRecord<byte[], byte[]> record =
            new ProducerRecord<>(topic, bytes("camera-" + (i % 8)), encoded.get(i % encoded.size()));
        record.headers().add("frame-id", bytes(prefix + i));
        record.headers().add("content-type", bytes("image/jpeg"));
        producer.send(record, (meta, e) -> {
          if (e != null) {
            failed.incrementAndGet();
            FrameProducers.keepFirst(firstFailure, e);
          }
        });
        board.sent();
        if (System.nanoTime() - lastStatus > 500_000_000L) {
          lastStatus = System.nanoTime();
          progress.accept(board.status(start));
        }
      }
      producer.flush();
    }
    if (failed.get() > 0) {
      throw new IllegalStateException(String.format(
          "%d of %d frames could not be sent to %s: %s",
          failed.get(), frames, topic, firstFailure.get()));
    }
  }

  /**
   * Reads predictions and dead letters until the driver stops the board (the timeout is its). Other
   * runs' records are passed over by their {@code frame-id} header, unread; a failure ends the run,
   * which used to wait out its timeout and call every frame unanswered.
   */
  private void read(Scoreboard board) {
    try {
      readUntilStopped(board);
    } catch (RuntimeException e) {
      board.fail(e);
    }
  }

  private void readUntilStopped(Scoreboard board) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "gapstream-demo-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    String predictions = service.config().topics().predictions();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(predictions, service.config().topics().dlq()));
      while (!board.stopped()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          Header idHeader = r.headers().lastHeader("frame-id");
          int i = board.index(idHeader == null ? null : new String(idHeader.value(), StandardCharsets.UTF_8));
          if (i < 0) {
            continue;
          }
          if (r.topic().equals(predictions)) {
            board.prediction(i, PredictionJson.fromBytes(r.value()), r.timestamp());
          } else {
            board.deadLetter(i);
          }
        }
      }
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** What came back; written by the reader thread, read by the driver. */
  private static final class Scoreboard {
    private final int[] labels;
    private final String prefix;
    private final BitSet seen = new BitSet();
    private final Histogram latencyMs = new Histogram(3_600_000L, 3);
    private long sent;
    private long predictions;
    private long duplicates;
    private long correct;
    private long deadLetters;
    private long lastPredictionAt;
    private volatile boolean stopped;
    private volatile RuntimeException failure;

    Scoreboard(int[] labels, String prefix) {
      this.labels = labels;
      this.prefix = prefix;
    }

    /** The index of one of this run's frames, or -1 for another's. */
    int index(String frameId) {
      if (frameId == null || !frameId.startsWith(prefix)) {
        return -1;
      }
      try {
        int i = Integer.parseInt(frameId.substring(prefix.length()));
        return i >= 0 && i < labels.length ? i : -1;
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    synchronized void sent() {
      sent++;
    }

    /** Frame {@code i}'s prediction, published at {@code publishedAt}. */
    synchronized void prediction(int i, Prediction p, long publishedAt) {
      if (seen.get(i)) {
        duplicates++;
        return;
      }
      seen.set(i);
      predictions++;
      if (p.top().get(0).index() == labels[i]) {
        correct++;
      }
      long latency = Math.max(0, publishedAt - p.source().timestamp());
      latencyMs.recordValue(Math.min(latency, latencyMs.getHighestTrackableValue()));
      lastPredictionAt = Math.max(lastPredictionAt, publishedAt);
    }

    /** Frame {@code i}'s dead letter; one sent again (a retry, a rebalance) is a duplicate. */
    synchronized void deadLetter(int i) {
      if (seen.get(i)) {
        duplicates++;
        return;
      }
      seen.set(i);
      deadLetters++;
    }

    void fail(RuntimeException e) {
      failure = e;
    }

    RuntimeException failure() {
      return failure;
    }

    synchronized long finished() {
      return predictions + deadLetters;
    }

    void stop() {
      stopped = true;
    }

    boolean stopped() {
      return stopped;
    }

    synchronized String status(long start) {
      double seconds = Math.max(0.001, (System.currentTimeMillis() - start) / 1000.0);
      return String.format(
          "sent %d/%d  predictions %d  dead letters %d  accuracy %.3f  %.0f fps",
          sent, labels.length, predictions, deadLetters,
          predictions == 0 ? 0.0 : (double) correct / predictions, predictions / seconds);
    }

    synchronized Summary summary(long start, double meanBatchSize) {
      double seconds = Math.max(0.001, (lastPredictionAt - start) / 1000.0);
      return new Summary(
          labels.length,
          predictions,
          deadLetters,
          duplicates,
          predictions == 0 ? 0.0 : round((double) correct / predictions),
          round(predictions / seconds),
          latencyMs.getValueAtPercentile(50),
          latencyMs.getValueAtPercentile(99),
          round(meanBatchSize));
    }

    private static double round(double v) {
      return Math.round(v * 1000.0) / 1000.0;
    }
  }

  /** Config the demo starts from: an embedded broker, everything else at its defaults. */
  static Map<String, String> defaults() {
    return Map.of("kafka.bootstrap.servers", "");
  }
}
