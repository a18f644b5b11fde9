package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code demo}, the README's first command: what it counts, and arguments it refuses up front. */
@ExtendWith(BlockedThreadGuard.class)
class DemoCommandIT {

  /**
   * Sending that outlasts {@code --timeout}: 40 frames at 5 a second take 8 s, and the timeout, 1 s,
   * counts from the last one. The reader used to stop at timeout + 5 s from the start, before the
   * last frames were sent, and the demo then reported predictions missing and exited 1.
   */
  @Test
  void everyPredictionIsCountedWhenSendingTakesLongerThanTheTimeout() throws Exception {
    try (GapstreamService service = TestPipelines.start(Map.of())) {
      Demo.Summary summary = new Demo(service, 40, 5.0, 11).run(Duration.ofSeconds(1), status -> {});

      assertThat(summary.frames()).isEqualTo(40);
      assertThat(summary.predictions() + summary.deadLetters()).as(summary.toString()).isEqualTo(40);
    }
  }

  /**
   * A second run on the same topics (a kept kafka.embedded.dir, a cluster) counts only its own
   * frames: the reader starts from the earliest offsets, and took the first run's predictions, of
   * the same frame ids, for its own (here 20 duplicates), or died on an id past its frames.
   */
  @Test
  void aSecondRunOnTheSameTopicsCountsOnlyItsOwnFrames() throws Exception {
    try (GapstreamService service = TestPipelines.start(Map.of())) {
      Demo.Summary first = new Demo(service, 20, 0, 1).run(Duration.ofMinutes(1), status -> {});
      Demo.Summary second = new Demo(service, 30, 0, 2).run(Duration.ofMinutes(1), status -> {});

      assertThat(first.predictions() + first.deadLetters()).as(first.toString()).isEqualTo(20);
      assertThat(second.predictions() + second.deadLetters()).as(second.toString()).isEqualTo(30);
      assertThat(second.duplicates()).as(second.toString()).isZero();

      // Holding one encoded frame at most, a run sends that one frame under each of its ids.
      Demo.Summary same = new Demo(service, 12, 0, 3, SyntheticFrames.DEFAULT_SIZES, 1).run(Duration.ofMinutes(1), status -> {});
      assertThat(same.predictions()).as(same.toString()).isEqualTo(12);
      assertThat(same.duplicates()).isZero();
      assertThat(same.accuracy()).as("one frame's label, right or wrong for all").isIn(0.0, 1.0);
    }
  }

  /**
   * Frames the producer cannot send fail the run at once, saying why. Before, the demo's producer
   * kept Kafka's 1 MiB request limit whatever {@code ingest.max.frame.bytes}, dropped its send
   * failures, and the run waited out its timeout to call the frames unanswered. Here the pipeline
   * takes frames of 1000 bytes, so requests go up to 1000 bytes and 64 KiB: a 4096x4096 JPEG (some
   * 1.3 MB) is over it, as it was over Kafka's 1 MiB default.
   */
  @Test
  void framesThatCannotBeSentFailTheRunSayingWhy() {
    try (GapstreamService service = TestPipelines.start(Map.of("ingest.max.frame.bytes", "1000"))) {
      Demo demo = new Demo(service, 2, 0, 1, List.of(new FrameSize(4096, 4096)));
      assertThatThrownBy(() -> demo.run(Duration.ofSeconds(20), status -> {}))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("2 of 2 frames could not be sent to frames: ")
          .hasMessageContaining("RecordTooLargeException");
    }
  }

  /** A demo that gives up says so, how many frames went unanswered, and exits 1. */
  @Test
  void aDemoThatTimesOutSaysSo() throws Exception {
    // 1,000 frames take seconds to classify, and the wait after the last is sent ends at once.
    CliRun run = CliRun.of("demo", "--frames", "1000", "--timeout", "PT0.001S", "--set", "http.port=0");

    assertThat(run.code()).as(run.err()).isEqualTo(1);
    long answered = run.json().get("predictions").asLong() + run.json().get("deadLetters").asLong();
    assertThat(answered).isLessThan(1000);
    assertThat(run.err()).contains(
        "demo: gave up PT0.001S after the last frame was sent, " + (1000 - answered) + " of 1000 frames unanswered (--timeout)");
  }

  /**
   * No temporary directory for the broker (java.io.tmpdir missing): a broker that cannot be
   * started, exit 2, saying where and how to move it. Before: exit 1, "cannot create a temporary
   * Kafka directory" and no more. In a JVM of its own: the JDK reads java.io.tmpdir once.
   */
  @Test
  void noTemporaryDirectoryForTheBrokerSaysWhereAndExits2(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("no-such-tmp");
    Path err = dir.resolve("err");
    Process demo = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.io.tmpdir=" + missing,
            "-cp", System.getProperty("java.class.path"), "dev.gapstream.Main", "demo", "--frames", "1",
            "--set", "http.port=0")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(err.toFile())
        .start();
    try {
      assertThat(demo.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      demo.destroyForcibly();
    }
    assertThat(demo.exitValue()).as(Files.readString(err)).isEqualTo(2);
    assertThat(Files.readString(err)).contains(
        "cannot create a temporary Kafka directory in " + missing + ": " + missing,
        "no such file or directory (set kafka.embedded.dir, or -Djava.io.tmpdir in GAPSTREAM_JAVA_OPTS)");
  }

  @Test
  void badArgumentsAreRefusedBeforeAnythingStarts() {
    CliRun none = CliRun.of("demo", "--frames", "0");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("--frames: at least 1, got 0");

    CliRun rate = CliRun.of("demo", "--rate", "-5");
    assertThat(rate.code()).isEqualTo(2);
    assertThat(rate.err()).contains("--rate: 0 (as fast as possible) or more, got -5.0");

    CliRun timeout = CliRun.of("demo", "--timeout", "-PT1S");
    assertThat(timeout.code()).isEqualTo(2);
    assertThat(timeout.err()).contains("--timeout: 0 or more, got PT-1S");

    CliRun sizes = CliRun.of("demo", "--sizes", "19x");
    assertThat(sizes.code()).isEqualTo(2);
    assertThat(sizes.err()).contains("--sizes: expected WIDTHxHEIGHT");

    CliRun tiny = CliRun.of("demo", "--sizes", "64x64,8x8");
    assertThat(tiny.code()).isEqualTo(2);
    assertThat(tiny.err()).contains("--sizes: frames must be at least 16 px per side: 8x8");

    // The shipped model takes 32x32 and up: every 20x20 frame was dead-lettered, and the demo exited 0.
    CliRun small = CliRun.of("demo", "--sizes", "64x64,20x20");
    assertThat(small.code()).isEqualTo(2);
    assertThat(small.err()).contains("--sizes: 20x20 is smaller than the model's minimum input 32x32 (gapnet-shapes):"
        + " every such frame would be dead-lettered as bad-shape");

    CliRun secure = CliRun.of("demo", "--set", "kafka.consumer.sasl.mechanism=SCRAM-SHA-512");
    assertThat(secure.code()).isEqualTo(2);
    assertThat(secure.err()).contains("kafka.consumer.sasl.mechanism: demo runs on an embedded plaintext broker");

    CliRun cluster = CliRun.of("demo", "--set", "kafka.bootstrap.servers=kafka:9092");
    assertThat(cluster.code()).isEqualTo(2);
    assertThat(cluster.err()).contains("--set kafka.bootstrap.servers=kafka:9092: demo runs on an embedded broker"
        + " of its own; on a cluster, use run, and produce or load to feed it");
  }
}
