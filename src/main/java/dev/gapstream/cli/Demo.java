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
 * sent with a {@code frame-id} of {@code demo-<run>-<i>} and keys {@code camera-<i mod 8>};
 * predictions and dead letters are read back from their topics (those of other runs there are not
 * counted).
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

  private final GapstreamService service;
  private final int frames;
  private final double rate;
  private final long seed;
  private final List<FrameSize> sizes;

  /** Frames of the camera-like mixed sizes, 64×64 to 256×256. */
  public Demo(GapstreamService service, int frames, double rate, long seed) {
    this(service, frames, rate, seed, SyntheticFrames.DEFAULT_SIZES);
  }

  /** Frames of the given sizes, each frame's picked at random. */
  public Demo(GapstreamService service, int frames, double rate, long seed, List<FrameSize> sizes) {
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
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(frames);
    int[] labels = new int[frames];
    SyntheticFrames generator = new SyntheticFrames(seed, sizes);
    // This run's own: the topics may hold an earlier run's outputs (a kept kafka.embedded.dir, a
    // cluster), which the reader, starting from the earliest offsets, must not count.
    String prefix = "demo-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    String topic = service.config().topics().frames();
    for (int i = 0; i < frames; i++) {
      if (i % 100 == 0) {
        progress.accept(String.format("generating frames %d/%d", i, frames));
      }
      SyntheticFrame frame = generator.next();
      labels[i] = frame.label();
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic, bytes("camera-" + (i % 8)), frame.encode("jpeg"));
      record.headers().add("frame-id", bytes(prefix + i));
      record.headers().add("content-type", bytes("image/jpeg"));
      records.add(record);
    }
    Scoreboard board = new Scoreboard(labels, prefix);
    Thread reader = new Thread(() -> read(board), "demo-reader");
    reader.start();
    long start = System.currentTimeMillis();
    try {
      send(records, board, progress, start);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (board.finished() < frames && System.nanoTime() < deadline) {
        progress.accept(board.status(start));
        TimeUnit.MILLISECONDS.sleep(500);
      }
    } finally { // interrupted or failed too: the reader and its consumer go with the run
      board.stop();
      reader.join();
    }
    progress.accept(board.status(start));
    var batches = service.registry().find(GapstreamMetrics.BATCH_SIZE).summary();
    return board.summary(start, batches == null ? 0.0 : batches.mean());
  }

  private void send(
      List<ProducerRecord<byte[], byte[]>> records, Scoreboard board, Consumer<String> progress, long start)
      throws InterruptedException {
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
      for (int i = 0; i < records.size(); i++) {
        if (rate > 0) {
          long wait = t0 + (long) (i * 1e9 / rate) - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
        producer.send(records.get(i), (meta, e) -> {
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
          failed.get(), records.size(), service.config().topics().frames(), firstFailure.get()));
    }
  }

  /** Reads predictions and dead letters until the driver stops the board (the timeout is its). */
  private void read(Scoreboard board) {
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
          if (r.topic().equals(predictions)) {
            board.prediction(PredictionJson.fromBytes(r.value()), r.timestamp());
          } else {
            Header id = r.headers().lastHeader("frame-id");
            board.deadLetter(id == null ? null : new String(id.value(), StandardCharsets.UTF_8));
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

    Scoreboard(int[] labels, String prefix) {
      this.labels = labels;
      this.prefix = prefix;
    }

    /** The index of one of this run's frames, or -1 for another's. */
    private int index(String frameId) {
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

    synchronized void prediction(Prediction p, long publishedAt) {
      int i = index(p.frameId());
      if (i < 0) {
        return;
      }
      if (seen.get(i)) {
        duplicates++;
        return;
      }
      seen.set(i);
      predictions++;
      if (p.top().get(0).index() == labels[i]) {
        correct++;
      }
      latencyMs.recordValue(Math.max(0, publishedAt - p.source().timestamp()));
      lastPredictionAt = Math.max(lastPredictionAt, publishedAt);
    }

    synchronized void deadLetter(String frameId) {
      if (index(frameId) >= 0) {
        deadLetters++;
      }
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
