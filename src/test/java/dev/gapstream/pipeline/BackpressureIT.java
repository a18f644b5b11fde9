package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.ServiceProcess;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bursts far beyond what the pipeline can take at once, against a process with a 384 MB heap:
 * Kafka holds the backlog, the consumer pauses at {@code ingest.max.in.flight}, and every frame is
 * processed after the burst without running out of memory. Pause state and frames in flight are
 * sampled from the process's {@code /metrics}; its heap too, for the log only (a heap's use below
 * its maximum says nothing: the collector sees to that until it cannot, and then the process dies
 * with an {@code OutOfMemoryError}, which is what the tests look for).
 */
class BackpressureIT {

  /** Some thirty times what may be in flight: the consumer must pause, again and again. */
  private static final int FRAMES = 10_000;
  private static final int MAX_IN_FLIGHT = 256;
  private static final int MAX_POLL_RECORDS = 100;

  /**
   * The large-frame backlogs run their frames at their own size, as a model without a {@code
   * maxSide} takes them: the shipped model's 256 would scale them small before they wait for a
   * batch, and the bounds these tests are about would hold nothing large.
   */
  private static final String OWN_SIZE = "ingest.resize.max.side";

  /**
   * The event loop's limit in the large-frame backlogs: two decode threads and an inference thread
   * at full size keep both cores busy from the first frame, while the loop runs its first records'
   * code for the first time (a lambda form defined, 150 ms; a first {@code headers()}, 218 ms, in a
   * CI run), and a runnable loop waits for a core. A longer block still fails the test; the burst
   * here and the in-process tests hold the loop to 100 ms.
   */
  private static final Duration BUSY_CORES_LIMIT = Duration.ofMillis(500);

  /** The large frames by size, {@code 3840x2160}: a 4K frame takes a second to draw and encode. */
  private static final Map<String, List<byte[]>> JPEGS = new ConcurrentHashMap<>();

  @TempDir Path dir;

  @Test
  void aBurstIsAbsorbedByKafkaWithTheConsumerPausedAndFramesInFlightBounded() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4);
        ServiceProcess service =
            ServiceProcess.start(
                "bounded", dir,
                Map.of("kafka.bootstrap.servers", broker.bootstrapServers(),
                    "ingest.max.in.flight", String.valueOf(MAX_IN_FLIGHT)),
                List.of("-Xmx384m"))) {
      service.awaitRunning(Duration.ofSeconds(60)).awaitReady(Duration.ofSeconds(60));
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "burst", 16, FrameFeed.jpegs(64, 64, 64, 9));
      List<String> ids = feed.ids(FRAMES);
      try (Outputs out = Outputs.read(broker.bootstrapServers())) {
        long start = System.nanoTime();
        feed.send(0, FRAMES, 0);
        double burstSeconds = (System.nanoTime() - start) / 1e9;
        Peaks peaks = Peaks.sampleUntilAllOut(service, out, ids);
        double seconds = (System.nanoTime() - start) / 1e9;
        Outputs.Tally tally = out.tally(ids); // every frame is out: no wait for stragglers, no check of duplicates
        System.out.printf(
            "backpressure: %d frames sent in %.1f s; all processed in %.1f s (%.0f frames/s); paused seen %s;"
                + " peak frames in flight %.0f; peak heap %.0f MB of 384; %s%n",
            FRAMES, burstSeconds, seconds, FRAMES / seconds, peaks.paused, peaks.inFlight,
            peaks.heap / (1 << 20), tally);

        assertThat(service.isAlive()).as(service.tail()).isTrue();
        assertThat(service.log()).doesNotContain("OutOfMemoryError");
        assertThat(tally.lost()).as(tally.toString()).isZero();
        assertThat(tally.predicted()).isEqualTo(FRAMES);
        assertThat(peaks.paused).as("the consumer paused under the burst").isTrue();
        assertThat(peaks.inFlight).isLessThanOrEqualTo(MAX_IN_FLIGHT + MAX_POLL_RECORDS);
      }
    }
  }

  /**
   * Frames in flight are bounded by their encoded bytes too: 256 frames of a few MiB would fill a
   * heap. With {@code ingest.max.in.flight.bytes} a few frames' worth, a burst pauses the consumer
   * at those few frames, far below the 256 the count allows, and every frame is still predicted.
   * In process, so that the gauge is read between the pipeline's own steps.
   */
  @Test
  @ExtendWith(BlockedThreadGuard.class)
  void framesInFlightAreBoundedByTheirEncodedBytesToo() throws Exception {
    List<byte[]> jpegs = FrameFeed.jpegs(8, 224, 224, 21);
    int smallest = jpegs.stream().mapToInt(j -> j.length).min().orElseThrow();
    long budget = 6L * smallest;
    int frames = 600;
    try (GapstreamService service = TestPipelines.start(Map.of(
            "ingest.max.in.flight", String.valueOf(MAX_IN_FLIGHT),
            "ingest.max.in.flight.bytes", String.valueOf(budget)));
        Outputs out = Outputs.read(service.bootstrapServers())) {
      FrameFeed feed = new FrameFeed(service.bootstrapServers(), "frames", "bytes", 8, jpegs);
      List<String> ids = feed.ids(frames);
      feed.send(0, frames, 0);
      double peak = 0;
      boolean paused = false;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (out.tally(ids).lost() > 0 && System.nanoTime() < deadline) {
        PromText m = PromText.parse(TestPipelines.get(service, "/metrics").body());
        peak = Math.max(peak, m.sum("gapstream_frames_in_flight"));
        paused |= m.sum("gapstream_consumer_paused") == 1.0;
        TimeUnit.MILLISECONDS.sleep(20);
      }
      Outputs.Tally tally = out.tally(ids);
      System.out.printf("backpressure by bytes: %d-byte bound, %d bytes a frame at least; peak frames in flight %.0f; %s%n",
          budget, smallest, peak, tally);
      assertThat(tally.lost()).as(tally.toString()).isZero();
      assertThat(tally.predicted()).isEqualTo(frames);
      assertThat(paused).as("the consumer paused").isTrue();
      // Paused once the frames' bytes reach the bound: the frame that reached it is the last in.
      assertThat(peak).as("frames in flight").isGreaterThan(0).isLessThanOrEqualTo(budget / smallest);
    }
  }

  /**
   * 1280×720 frames, 2.8 MB each once decoded: the 200 frames in flight would take 550 MB of heap,
   * over the 384 MB it has, if all were decoded at once. They are decoded only as far ahead of the
   * model as its batches need (batches of 4 at this size, by {@code batch.max.pixels}).
   */
  @Test
  void aBacklogOfLargeFramesIsDecodedOnlyAsFarAheadAsTheBatchesNeed() throws Exception {
    Backlog backlog =
        Backlog.run(
            dir, 200, 1280, 720, 384,
            Map.of("ingest.max.in.flight", String.valueOf(MAX_IN_FLIGHT), OWN_SIZE, "0"));

    backlog.assertEveryFramePredicted();
    assertThat(backlog.peaks.inFlight).as("a backlog in flight").isGreaterThan(100);
  }

  /**
   * 1920×1080 frames with the default batch settings: 16 frames a batch at most, but only 2 of this
   * size (4,194,304 pixels a batch at most). A batch of 16 would need 400 MB for its tensor alone,
   * more than the JVM's direct memory allows with this heap, and ONNX Runtime some 1.5 GB besides
   * (for this model, measured); with two batches of 2 the whole process peaked at 834-882 MB, and
   * the test allows it 1.25 GB (the heap, ONNX Runtime's two batches and the JVM's own memory).
   */
  @Test
  void aBacklogOfFullHdFramesRunsInBatchesBoundedByPixels() throws Exception {
    Backlog backlog = Backlog.run(dir, 40, 1920, 1080, 384, Map.of(OWN_SIZE, "0"));

    backlog.assertEveryFramePredicted();
    assertThat(backlog.peaks.batch).as("batches of two frames of this size, never more").isEqualTo(2.0);
    assertThat(backlog.resident).as("peak resident memory").isLessThan(1_280L << 20);
  }

  /**
   * 3840×2160 frames, 25 MB each once decoded, with the default settings: each runs alone, and
   * frames are decoded ahead only while fewer than three batches' worth of pixels wait (and two
   * frames per decode thread are in the pool). Counted in frames alone, 48 would be decoded ahead,
   * 1.2 GB: with only that bound, frames were dead-lettered with {@code OutOfMemoryError} (12 of
   * 24 with a 384 MB heap, 7 with 512). The heap here is 512 MB: the serial collector puts each 25
   * MB array straight into its old generation (two thirds of the heap), where the frames decoded
   * ahead, the two running and the pixel pool's two take some 250 MB, too near 384 MB's 256 for a
   * test.
   */
  @Test
  void aBacklogOf4kFramesIsDecodedOnlyAFewBatchesOfPixelsAhead() throws Exception {
    Backlog backlog = Backlog.run(dir, 24, 3840, 2160, 512, Map.of(OWN_SIZE, "0"));

    backlog.assertEveryFramePredicted();
    assertThat(backlog.peaks.batch).as("each frame alone").isEqualTo(1.0);
  }

  /**
   * The same 4K backlog as the shipped model takes it by default, scaled to its {@code maxSide}
   * (256×144) on the decode threads: each frame is still decoded whole first, 25 MB of pixels (two
   * per decode thread at a time, the arrays reused), and the scaled frames batch together, in a
   * 384 MB heap that the 24 frames decoded at once (600 MB) would overflow.
   */
  @Test
  void aBacklogOf4kFramesScaledToTheModelsSideBatchesTogetherInASmallHeap() throws Exception {
    Backlog backlog = Backlog.run(dir, 24, 3840, 2160, 384, Map.of());

    backlog.assertEveryFramePredicted();
    assertThat(backlog.peaks.batch).as("4K frames scaled to 256x144 share batches").isGreaterThan(1.0);
  }

  /**
   * {@code frames} JPEGs of one size sent at once to a service process with a heap of {@code heapMb}
   * and {@code settings}, and what became of them: its peaks while they ran, its log, its peak
   * resident memory.
   */
  private record Backlog(int frames, Peaks peaks, Outputs.Tally tally, String log, boolean alive, long resident) {

    static Backlog run(Path dir, int frames, int width, int height, int heapMb, Map<String, String> settings)
        throws Exception {
      String name = width + "x" + height;
      Map<String, String> all = new HashMap<>(settings);
      try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
        all.put("kafka.bootstrap.servers", broker.bootstrapServers());
        // Drawn once per size (two tests send 4K frames), and not while the service starts: its
        // event loop's first tasks, waiting for a core, read as blocked.
        List<byte[]> jpegs = JPEGS.computeIfAbsent(name, size -> FrameFeed.jpegs(4, width, height, width));
        try (ServiceProcess service =
            ServiceProcess.start(name, dir, all, List.of("-Xmx" + heapMb + "m"), BUSY_CORES_LIMIT)) {
          service.awaitRunning(Duration.ofSeconds(60)).awaitReady(Duration.ofSeconds(60));
          FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", name, 4, jpegs);
          List<String> ids = feed.ids(frames);
          try (Outputs out = Outputs.read(broker.bootstrapServers())) {
            long start = System.nanoTime();
            feed.send(0, frames, 0);
            Peaks peaks = Peaks.sampleUntilAllOut(service, out, ids);
            double seconds = (System.nanoTime() - start) / 1e9;
            Outputs.Tally tally = out.tally(ids); // every frame is out, and duplicates are not the point
            boolean alive = service.isAlive();
            long resident = alive ? service.peakResidentBytes() : -1;
            System.out.printf(
                "backpressure, %s: %d frames processed in %.1f s; peak frames in flight %.0f; largest batch"
                    + " %.0f; peak heap %.0f MB of %d; peak resident %d MB; %s%n",
                name, frames, seconds, peaks.inFlight, peaks.batch, peaks.heap / (1 << 20), heapMb, resident >> 20,
                tally);
            return new Backlog(frames, peaks, tally, service.log(), alive, resident);
          }
        }
      }
    }

    void assertEveryFramePredicted() {
      assertThat(log).doesNotContain("OutOfMemoryError");
      assertThat(alive).as(log.substring(Math.max(0, log.length() - 6_000))).isTrue();
      assertThat(tally.lost()).as(tally.toString()).isZero();
      assertThat(tally.predicted()).as(tally.toString()).isEqualTo(frames);
    }
  }

  /** The highest heap, frames in flight and batch the process's {@code /metrics} showed, and any pause. */
  private static final class Peaks {
    double heap;
    double inFlight;
    double batch;
    boolean paused;

    /** Samples every 250 ms until every frame has an output, the process died, or 4 minutes. */
    static Peaks sampleUntilAllOut(ServiceProcess service, Outputs out, List<String> ids) throws Exception {
      Peaks peaks = new Peaks();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (out.tally(ids).lost() > 0 && System.nanoTime() < deadline && service.isAlive()) {
        String body = service.body("/metrics");
        if (!body.isEmpty()) {
          PromText m = PromText.parse(body);
          peaks.heap = Math.max(peaks.heap, heapUsed(m));
          peaks.inFlight = Math.max(peaks.inFlight, m.sum("gapstream_frames_in_flight"));
          peaks.batch = Math.max(peaks.batch, m.sum("gapstream_batch_size_max"));
          peaks.paused |= m.sum("gapstream_consumer_paused") == 1.0;
        }
        TimeUnit.MILLISECONDS.sleep(250);
      }
      return peaks;
    }
  }

  private static double heapUsed(PromText metrics) {
    return metrics.samples().stream()
        .filter(s -> s.name().equals("jvm_memory_used_bytes") && "heap".equals(s.labels().get("area")))
        .mapToDouble(PromText.Sample::value)
        .sum();
  }
}
