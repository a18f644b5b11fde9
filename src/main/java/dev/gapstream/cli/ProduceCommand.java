package dev.gapstream.cli;

import dev.gapstream.FileErrors;
import dev.gapstream.ingest.ImageFiles;
import dev.gapstream.ingest.ImageFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code produce}: sends a directory of images to the frames topic, with a progress bar. */
@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    description = "Send every image (jpg, jpeg, png, bmp, gif) in a directory to a Kafka topic.")
public final class ProduceCommand implements Callable<Integer> {

  /** How long a signal waits for the account before the JVM exits. */
  private static final Duration SIGNAL_WAIT = Duration.ofSeconds(30);
  /** How long a signalled run waits for the frames its producer holds: within {@link #SIGNAL_WAIT}. */
  private static final Duration FLUSH_WAIT = Duration.ofSeconds(20);
  /**
   * What {@link #call()} returns once a signal stopped it: 128 + SIGINT, as a shell reports Ctrl-C.
   * Under a real signal the JVM exits with its own status (130 for Ctrl-C, 143 for SIGTERM).
   */
  private static final int SIGNALLED = 130;

  @Parameters(index = "0", paramLabel = "DIR", description = "Directory of images (not recursive).")
  Path dir;

  @Mixin KafkaClientOptions kafka;

  @Option(names = {"-t", "--topic"}, defaultValue = "frames", description = "Topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = {"-k", "--key"}, description = "Record key (the camera id); default: the file name.")
  String key;

  @Option(names = "--rate", defaultValue = "0", description = "Frames per second; 0 = as fast as possible.")
  double rate;

  @Option(names = "--repeat", defaultValue = "1", description = "Send the directory this many times.")
  int repeat;

  @Spec CommandSpec spec;

  /** The clock of the send schedule and of the rate the bar shows: a test's own. */
  LongSupplier nanoTime = System::nanoTime;

  /** Why sending stopped short of the last frame, or null. */
  private String gaveUp;
  /** Counted down by Ctrl-C or SIGTERM; wakes the wait for a frame's time. */
  private final CountDownLatch signal = new CountDownLatch(1);
  /** When the signal came, on {@link #nanoTime}'s clock. */
  private volatile long signalledAt;

  @Override
  public Integer call() throws Exception {
    checkOptions();
    List<Path> files = images();
    if (files.isEmpty()) {
      spec.commandLine().getErr().println("produce: no images in " + dir);
      return 2;
    }
    long largest = readable(files);
    Sends sends = new Sends((long) files.size() * repeat);
    Progress progress;
    CountDownLatch reported = new CountDownLatch(1);
    Thread onSignal = null;
    try {
      KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(FrameProducers.config(largest, kafka.client()));
      try {
        onSignal = stopOnSignal(reported);
        FrameProducers.requireTopic(producer, topic, "--topic");
        // Its clock starts with the send schedule's: from the producer's start, with its wait for
        // the topic (up to max.block.ms, 15 s), the rate shown came out lower than the one sent at.
        progress = new Progress("produce", sends.total, spec.commandLine().getErr(), nanoTime);
        send(producer, files, sends, progress);
      } finally {
        close(producer);
      }
      progress.finish(sends.acked.get(), sends.failed.get());
      return report(sends);
    } finally {
      reported.countDown(); // a signal's exit waits for this
      if (onSignal != null && !signalled()) {
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException exiting) {
          // a signal since: the hook runs and finds the account printed
        }
      }
    }
  }

  /**
   * Ctrl-C or SIGTERM: the run stops before its next frame, sends what its producer holds ({@link
   * #FLUSH_WAIT} at most), and says how many frames were sent and acknowledged before the JVM exits
   * ({@link #SIGNAL_WAIT} at most). It used to exit at once, the bar's line unfinished and the
   * frames in the producer's buffer dropped unsaid.
   */
  private Thread stopOnSignal(CountDownLatch reported) {
    Thread hook = new Thread(() -> {
      signalledAt = nanoTime.getAsLong();
      signal.countDown();
      try {
        reported.await(SIGNAL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "produce-signal");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  private boolean signalled() {
    return signal.getCount() == 0;
  }

  /**
   * Closes the producer once it has sent what it holds, or, after a signal, {@link #FLUSH_WAIT}
   * from the signal, failing (and counting) what is left then. The wait runs on a thread of its
   * own, so that a signal that comes while it waits still bounds it: a close chosen unbounded
   * before the signal, or a send blocked on a full buffer for max.block.ms and a whole FLUSH_WAIT
   * after it, outlasted the signal's {@link #SIGNAL_WAIT}, and the JVM exited without the account.
   */
  private void close(KafkaProducer<byte[], byte[]> producer) throws InterruptedException {
    CountDownLatch flushed = new CountDownLatch(1);
    Thread flush = new Thread(() -> {
      try {
        producer.flush();
      } finally {
        flushed.countDown();
      }
    }, "produce-flush");
    flush.setDaemon(true);
    flush.start();
    while (!signalled() && !flushed.await(100, TimeUnit.MILLISECONDS)) {
      // until everything held is acknowledged or failed, or a signal
    }
    Duration left = signalled() ? FLUSH_WAIT.minusNanos(nanoTime.getAsLong() - signalledAt) : Duration.ZERO;
    producer.close(left.isNegative() ? Duration.ZERO : left);
  }

  private void checkOptions() {
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "DIR: " + dir + " is not a directory");
    }
    if (repeat < 1) {
      throw new ParameterException(spec.commandLine(), "--repeat: at least 1, got " + repeat);
    }
    if (!(rate >= 0)) {
      throw new ParameterException(spec.commandLine(), "--rate: 0 (as fast as possible) or more, got " + rate);
    }
  }

  private List<Path> images() {
    try {
      return ImageFiles.in(dir, EnumSet.of(ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.BMP, ImageFormat.GIF));
    } catch (IOException e) {
      // Before: "error: /data/frames", exit 1.
      throw new ParameterException(spec.commandLine(), "DIR: cannot list " + dir + ": " + FileErrors.describe(e));
    }
  }

  /**
   * The size of the largest of {@code files}, each opened and its first byte read before anything
   * is sent: one that cannot be read is refused naming it (exit 2), as {@code load --images}
   * refuses it. It used to fail when its turn came, exit 1, after the frames before it had gone.
   */
  private long readable(List<Path> files) {
    long largest = 0;
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        in.read();
        largest = Math.max(largest, Files.size(file));
      } catch (IOException e) {
        throw new ParameterException(spec.commandLine(),
            "DIR: cannot read " + file.getFileName() + " in " + dir + ": " + FileErrors.why(e));
      }
    }
    return largest;
  }

  /**
   * Sends each file {@code repeat} times, at {@code --rate}, until the last, a signal, a timed-out
   * delivery or a file that can no longer be read ({@link #gaveUp}).
   */
  private void send(KafkaProducer<byte[], byte[]> producer, List<Path> files, Sends sends, Progress progress)
      throws InterruptedException {
    long start = nanoTime.getAsLong(); // after the metadata wait, which --rate must not make up for
    for (int r = 0; r < repeat; r++) {
      for (Path file : files) {
        if (sends.timedOut.get()) {
          // A frame waited delivery.timeout.ms (2 minutes by default) for the brokers: they are
          // gone. Going on made each batch wait as long, for hours with a large --repeat.
          gaveUp = String.format(
              "a frame's delivery timed out: do the brokers at %s answer? %d of %d frames left unsent",
              kafka.bootstrapServers, sends.total - sends.sent, sends.total);
          return;
        }
        pace(start, sends.sent);
        if (signalled()) {
          return;
        }
        ProducerRecord<byte[], byte[]> record;
        try {
          record = record(file, repeat == 1 ? "" : "#" + (r + 1));
        } catch (IOException e) {
          // Read at the start, deleted or changed since. This failed the command with the error
          // glued to the bar, and no word of the frames that had gone.
          gaveUp = String.format(
              "cannot read %s in %s (%s), which could be read at the start: %d of %d frames sent before it",
              file.getFileName(), dir, FileErrors.why(e), sends.sent, sends.total);
          return;
        }
        producer.send(record, sends::delivered);
        sends.sent++;
        progress.update(sends.acked.get(), sends.failed.get());
      }
    }
  }

  private int report(Sends sends) {
    PrintWriter err = spec.commandLine().getErr();
    if (signalled()) {
      err.printf("produce: stopped by a signal after sending %d of %d frames, %d of them acknowledged%n",
          sends.sent, sends.total, sends.acked.get());
    }
    if (gaveUp != null) {
      err.println("produce: gave up: " + gaveUp);
    }
    if (sends.firstFailure.get() != null) {
      err.println("produce: " + sends.failed.get() + " frame(s) not sent; the first because: " + sends.firstFailure.get());
    }
    err.flush();
    if (signalled()) {
      return SIGNALLED;
    }
    return sends.failed.get() == 0 && gaveUp == null ? 0 : 1;
  }

  /** What a run handed the producer, and what became of it. */
  private static final class Sends {
    final long total;
    /** Handed to the producer: the sending thread's. */
    long sent;
    /** Acknowledged, and failed: counted on the producer's thread. */
    final AtomicLong acked = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicReference<Exception> firstFailure = new AtomicReference<>();
    /**
     * Set by any timed-out delivery, not only a first failure: one oversized file before the
     * brokers went away must not hide that they did.
     */
    final AtomicBoolean timedOut = new AtomicBoolean();

    Sends(long total) {
      this.total = total;
    }

    void delivered(RecordMetadata meta, Exception e) {
      FrameProducers.keepFirst(firstFailure, e);
      if (e instanceof TimeoutException) {
        timedOut.set(true);
      }
      (e == null ? acked : failed).incrementAndGet();
    }
  }

  /**
   * {@code file} as a frame: keyed by {@code --key} or its name, its {@code frame-id} its name (and
   * {@code suffix}, which tells repeats apart), so that its prediction names the file whatever the
   * key; its {@code content-type} that of its bytes ({@link ImageFiles#contentType}).
   */
  private ProducerRecord<byte[], byte[]> record(Path file, String suffix) throws IOException {
    String name = file.getFileName().toString();
    byte[] k = (key != null ? key : name).getBytes(StandardCharsets.UTF_8);
    byte[] frame = Files.readAllBytes(file);
    String type = ImageFiles.contentType(frame, file);
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, k, frame);
    record.headers().add("frame-id", (name + suffix).getBytes(StandardCharsets.UTF_8));
    record.headers().add("content-type", type.getBytes(StandardCharsets.UTF_8));
    return record;
  }

  /** Waits for the time of frame {@code sent} at {@code --rate}, or a signal. */
  private void pace(long start, long sent) throws InterruptedException {
    if (rate <= 0) {
      return;
    }
    long due = start + (long) (sent * 1e9 / rate);
    long wait = due - nanoTime.getAsLong();
    if (wait > 0) {
      signal.await(wait, TimeUnit.NANOSECONDS);
    }
  }
}
