package dev.gapstream.bench;

import dev.gapstream.bench.BenchReport.Parts;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * An open-loop load offered to a gapstream that is already running, on any Kafka cluster: frames
 * sent at a fixed rate to its frames topic, each stamped with its scheduled send time, and its
 * predictions read back to measure each frame's time from then to its prediction's publication.
 * What {@code bench} measures in its latency stage, but from another machine: without the broker
 * and the load generator on the pipeline's own cores, and against a deployment as it runs.
 *
 * <p>The run's frames carry {@code frame-id} {@code load-<run>-<i>}; the pipeline copies it onto
 * their predictions, so other traffic on the same topics (cameras, another run) is left out. The
 * end-to-end time subtracts the scheduled send time (this machine's clock) from the prediction
 * record's timestamp (the pipeline's clock, or the broker's with {@code LogAppendTime}): across
 * machines, clocks that disagree add their difference, and a prediction stamped before its frame
 * was due is reported ({@link Report#clockSkewMs}).
 */
public final class OpenLoad {

  /** The most frames one run offers. */
  public static final int MAX_FRAMES = 100_000_000;

  /**
   * @param client connection properties for the producer and the reader: {@code
   *     bootstrap.servers}, and security settings where the cluster needs them
   * @param fps frames per second offered
   * @param warmUp offered first at the same rate and not counted: a fresh pipeline's JIT, first
   *     batches of each size, the clients' first requests
   * @param duration offered and counted after the warm-up
   * @param timeout how long to wait for the predictions once every frame is sent
   */
  public record Settings(
      Map<String, String> client,
      String framesTopic,
      String predictionsTopic,
      double fps,
      Duration warmUp,
      Duration duration,
      Duration timeout) {

    public Settings {
      client = Map.copyOf(client);
      if (!(fps > 0) || Double.isInfinite(fps)) {
        throw new IllegalArgumentException("the rate must be a positive number of frames per second: " + fps);
      }
      if (warmUp.isNegative() || !positive(duration) || !positive(timeout)) {
        throw new IllegalArgumentException(
            "the warm-up must not be negative, the duration and the timeout must be positive");
      }
      // The frames are counted in an int (and each one's time kept): past it, the count wrapped.
      double frames = fps * (warmUp.toNanos() + duration.toNanos()) / 1e9;
      if (frames > MAX_FRAMES) {
        throw new IllegalArgumentException(String.format(
            "%.0f frames (the rate times the warm-up and the duration) are more than the %d one run offers",
            frames, MAX_FRAMES));
      }
    }

    /** Frames sent in the warm-up. */
    public int warmFrames() {
      return frames(warmUp);
    }

    /** Frames sent after it, and counted; at least one. */
    public int countedFrames() {
      return Math.max(1, frames(duration));
    }

    private int frames(Duration d) {
      return (int) Math.round(fps * d.toNanos() / 1e9);
    }

    private static boolean positive(Duration d) {
      return !d.isNegative() && !d.isZero();
    }
  }

  /**
   * What a run measured. Latencies are over the counted frames (after the warm-up) that came back;
   * {@code achievedFps} is every prediction back per second from the first frame's scheduled send
   * to the last publication.
   *
   * @param failedSends frames the producer could not deliver to the frames topic ({@code sendError}
   *     the first one's error)
   * @param received frames whose prediction came back within the timeout, warm-up included
   * @param measured counted frames whose prediction came back: the latencies' sample
   * @param clockSkewMs the most a prediction was stamped before its frame was due: at least how far
   *     apart the two clocks are (0: no sign of it)
   * @param senderLateMeanMs how far behind its scheduled time the mean counted frame was handed to
   *     the producer (the load generator's own lag, counted in the latencies)
   * @param senderLateMaxMs the most a counted frame was handed to the producer behind its schedule
   */
  public record Report(
      String framesTopic,
      String predictionsTopic,
      double offeredFps,
      int warmUpFrames,
      int countedFrames,
      long sent,
      long failedSends,
      String sendError,
      long received,
      long measured,
      double achievedFps,
      double p50Ms,
      double p99Ms,
      double p999Ms,
      double maxMs,
      long clockSkewMs,
      double senderLateMeanMs,
      double senderLateMaxMs,
      Parts parts) {

    /** Frames sent but neither delivered-and-predicted nor failed in the send: lost, or too late. */
    public long missing() {
      return sent - failedSends - received;
    }

    /** Whether every frame was sent and its prediction came back. */
    public boolean complete() {
      return failedSends == 0 && missing() == 0;
    }

    /** The report as a few lines of text. */
    public String table() {
      StringBuilder b = new StringBuilder();
      line(b, "load: %.1f frames/s to %s, %d frames counted after %d not counted; predictions from %s",
          offeredFps, framesTopic, countedFrames, warmUpFrames, predictionsTopic);
      if (measured < countedFrames) {
        line(b, "only %d of the %d counted frames came back: the figures below are theirs", measured, countedFrames);
      }
      line(b, "");
      line(b, "%-28s %9s %9s %8s %8s %8s %8s %7s", "end to end", "offered", "achieved", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
          "frames");
      line(b, "%-28s %9.1f %9.1f %8.0f %8.0f %8.0f %8.0f %7d", "", offeredFps, achievedFps, p50Ms, p99Ms, p999Ms, maxMs,
          measured);
      if (parts != null) {
        line(b, "");
        line(b, "%-28s %8s %8s %12s", "where a frame's time went, ms", "p50", "p99", "slowest 1%");
        for (BenchReport.Part p : parts.all()) {
          line(b, "    %-23s %8.1f %8.1f %12.1f", p.name(), p.p50Ms(), p.p99Ms(), p.slowestMeanMs());
        }
      }
      line(b, "");
      line(b, "sent %d, predictions back %d%s%s", sent, received,
          failedSends > 0 ? String.format(Locale.ROOT, ", %d not sent (%s)", failedSends, sendError) : "",
          missing() > 0 ? String.format(Locale.ROOT, ", %d missing (dead-lettered, lost or later than the timeout)", missing()) : "");
      line(b, "sender: frames handed to the producer %.2f ms behind schedule on average, %.1f ms at most"
          + " (counted in the latencies above)", senderLateMeanMs, senderLateMaxMs);
      if (clockSkewMs > 0) {
        line(b, "clocks: a prediction was stamped %d ms before its frame was due; the clocks here and on the"
            + " pipeline (or broker) differ by at least that much, and every latency above by as much", clockSkewMs);
      }
      return b.toString();
    }

    private static void line(StringBuilder b, String format, Object... args) {
      b.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
  }

  private OpenLoad() {}

  /**
   * Offers {@code frames} (cycled through) at the settings' rate and reads the predictions back;
   * {@code progress} hears a status line about once a second.
   *
   * @throws dev.gapstream.GapstreamException when the predictions topic has no partitions
   */
  public static Report run(Settings settings, List<EncodedFrame> frames, Consumer<String> progress)
      throws InterruptedException {
    int warm = settings.warmFrames();
    int count = warm + settings.countedFrames();
    String idPrefix = String.format("load-%08x-", ThreadLocalRandom.current().nextInt());
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "load-progress");
          t.setDaemon(true);
          return t;
        });
    try (LatencyReader reader = new LatencyReader(settings.client(), settings.predictionsTopic(), idPrefix, warm);
        KafkaProducer<byte[], byte[]> producer = OpenLoopSender.producer(settings.client())) {
      OpenLoopSender.requireTopic(producer, settings.framesTopic());
      // Until the sender says how many went and the timeout from then: a send that falls behind
      // its schedule (a full buffer, a slow broker) must not shorten the wait for predictions.
      Thread readerThread = new Thread(() -> reader.readUntil(count), "load-reader");
      readerThread.start();
      OpenLoopSender.Sends sends = new OpenLoopSender.Sends(warm);
      ticker.scheduleAtFixedRate(
          () -> progress.accept(String.format(Locale.ROOT, "sent %d/%d  predictions back %d%s",
              sends.sent(), count, reader.received(), sends.failed() > 0 ? "  not sent " + sends.failed() : "")),
          1, 1, TimeUnit.SECONDS);
      boolean sent = false;
      try {
        OpenLoopSender.send(producer, settings.framesTopic(), idPrefix, frames, count, settings.fps(), sends);
        sent = true;
      } finally {
        if (!sent) { // whatever stopped the sending: the reader has no deadline but this
          reader.expect(0); // it ends within a poll, before its consumer is closed here
          readerThread.join();
        }
      }
      reader.expect((int) sends.acknowledged(), settings.timeout());
      readerThread.join();
      Histogram h = reader.histogram();
      Exception error = sends.firstError();
      return new Report(
          settings.framesTopic(),
          settings.predictionsTopic(),
          Stats.round(settings.fps()),
          warm,
          count - warm,
          sends.sent(),
          sends.failed(),
          error == null ? null : error.toString(),
          reader.received(),
          h.getTotalCount(),
          reader.achievedFps(),
          h.getValueAtPercentile(50),
          h.getValueAtPercentile(99),
          h.getValueAtPercentile(99.9),
          h.getMaxValue(),
          reader.clockSkewMs(),
          Stats.round(sends.lateMeanMs()),
          Stats.round(sends.lateMaxMs()),
          reader.parts());
    } finally {
      ticker.shutdownNow();
    }
  }
}
