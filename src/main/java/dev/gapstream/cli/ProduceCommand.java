package dev.gapstream.cli;

import dev.gapstream.FileErrors;
import dev.gapstream.ingest.ImageFiles;
import dev.gapstream.ingest.ImageFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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

  /** Why sending stopped short of the last frame, or null. */
  private String gaveUp;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "DIR: " + dir + " is not a directory");
    }
    if (repeat < 1) {
      throw new ParameterException(spec.commandLine(), "--repeat: at least 1, got " + repeat);
    }
    if (!(rate >= 0)) {
      throw new ParameterException(spec.commandLine(), "--rate: 0 (as fast as possible) or more, got " + rate);
    }
    List<Path> files;
    try {
      files = ImageFiles.in(dir, EnumSet.of(ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.BMP, ImageFormat.GIF));
    } catch (IOException e) {
      // Before: "error: /data/frames", exit 1.
      throw new ParameterException(spec.commandLine(), "DIR: cannot list " + dir + ": " + FileErrors.describe(e));
    }
    if (files.isEmpty()) {
      spec.commandLine().getErr().println("produce: no images in " + dir);
      return 2;
    }
    long total = (long) files.size() * repeat;
    AtomicLong acked = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    // Set by any timed-out delivery, not only a first failure: one oversized file before the
    // brokers went away must not hide that they did.
    AtomicBoolean timedOut = new AtomicBoolean();
    Progress progress = new Progress("produce", total);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(FrameProducers.config(largest(files), kafka.client()))) {
      FrameProducers.requireTopic(producer, topic, "--topic");
      long start = System.nanoTime(); // after the metadata wait, which --rate must not make up for
      long sent = 0;
      sending:
      for (int r = 0; r < repeat; r++) {
        for (Path file : files) {
          if (timedOut.get()) {
            // A frame waited delivery.timeout.ms (2 minutes by default) for the brokers: they are
            // gone. Going on made each batch wait as long, for hours with a large --repeat.
            gaveUp = String.format(
                "a frame's delivery timed out: do the brokers at %s answer? %d of %d frames left unsent",
                kafka.bootstrapServers, total - sent, total);
            break sending;
          }
          pace(start, sent);
          ProducerRecord<byte[], byte[]> record = record(file, repeat == 1 ? "" : "#" + (r + 1));
          producer.send(record, (meta, e) -> {
            FrameProducers.keepFirst(firstFailure, e);
            if (e instanceof TimeoutException) {
              timedOut.set(true);
            }
            (e == null ? acked : failed).incrementAndGet();
          });
          sent++;
          progress.update(acked.get(), failed.get());
        }
      }
      producer.flush();
    }
    progress.finish(acked.get(), failed.get());
    if (gaveUp != null) {
      spec.commandLine().getErr().println("produce: gave up: " + gaveUp);
    }
    if (firstFailure.get() != null) {
      spec.commandLine().getErr().println(
          "produce: " + failed.get() + " frame(s) not sent; the first because: " + firstFailure.get());
    }
    return failed.get() == 0 && gaveUp == null ? 0 : 1;
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

  private void pace(long start, long sent) throws InterruptedException {
    if (rate <= 0) {
      return;
    }
    long due = start + (long) (sent * 1e9 / rate);
    long wait = due - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  private static long largest(List<Path> files) throws IOException {
    long largest = 0;
    for (Path f : files) {
      largest = Math.max(largest, Files.size(f));
    }
    return largest;
  }
}
