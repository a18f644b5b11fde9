package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code load} against a pipeline already running on its own broker, as a user runs it against a
 * deployment: every frame it sent is accounted for, other traffic on the same topics is left out,
 * frames that never come back fail the run, and bad arguments are usage errors. The latencies'
 * values belong in BENCHMARKS.md; only their consistency is checked here.
 */
@ExtendWith(BlockedThreadGuard.class)
class LoadCommandIT {

  private static GapstreamService service;

  @BeforeAll
  static void start() {
    // As deployed: the batch size calibrated at start-up (the tests' default turns it off).
    service = TestPipelines.start(Map.of("batch.calibrate", "true"));
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void everyFrameSentComesBackAndOtherTrafficIsLeftOut() throws Exception {
    double before = predictionsPublished();
    // A camera on the same topic while the load runs: its predictions are not the load's.
    CompletableFuture<Void> camera = CompletableFuture.runAsync(LoadCommandIT::cameraSendsTwentyFrames);

    CliRun run =
        CliRun.of(
            "load", "-b", service.bootstrapServers(), "-t", service.config().topics().frames(),
            "-p", service.config().topics().predictions(), "--rate", "40", "--warmup", "PT1S",
            "--duration", "PT2S", "--size", "96x96", "--json");
    camera.get(1, TimeUnit.MINUTES);

    assertThat(run.code()).as(run.err()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("warmUpFrames").asInt()).isEqualTo(40);
    assertThat(report.get("countedFrames").asInt()).isEqualTo(80);
    assertThat(report.get("sent").asLong()).isEqualTo(120);
    assertThat(report.get("failedSends").asLong()).isZero();
    assertThat(report.get("received").asLong()).isEqualTo(120);
    assertThat(report.get("measured").asLong()).as("every counted frame, none of the camera's").isEqualTo(80);
    assertThat(report.get("clockSkewMs").asLong()).as("one clock stamps both").isZero();
    double lateMean = report.get("senderLateMeanMs").asDouble(-1);
    assertThat(lateMean).as("the sender's own lag behind its schedule").isNotNegative();
    assertThat(report.get("senderLateMaxMs").asDouble()).isGreaterThanOrEqualTo(lateMean);
    assertThat(run.err()).contains("sender: frames handed to the producer ");
    double p50 = report.get("p50Ms").asDouble();
    double p99 = report.get("p99Ms").asDouble();
    assertThat(p50).isPositive();
    assertThat(p99).isGreaterThanOrEqualTo(p50);
    assertThat(report.get("p999Ms").asDouble()).isBetween(p99, report.get("maxMs").asDouble());
    assertThat(report.get("achievedFps").asDouble()).isPositive();
    assertThat(report.at("/parts/inference/p50Ms").asDouble()).isPositive();
    assertThat(run.err()).contains("end to end").contains("sent 120, predictions back 120");
    // The pipeline predicted the camera's frames too; the load counted only its own.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (predictionsPublished() - before < 140 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertThat(predictionsPublished() - before).isEqualTo(140);
  }

  @Test
  void theServiceBatchesAtTheSizeItCalibratedAndSaysSoInItsMetrics() throws Exception {
    long nominal = 224L * 224; // the shipped model takes any size: calibrated at 224x224
    long pixels = service.batchPolicy().maxPixels();
    assertThat(pixels % nominal).isZero();
    assertThat(pixels / nominal).isBetween(1L, 16L);
    assertThat(service.batchPolicy().maxSize()).isEqualTo(16);

    PromText scraped = PromText.parse(TestPipelines.get(service, "/metrics").body());
    assertThat(scraped.sum("gapstream_batch_max_frames")).isEqualTo(16);
    assertThat(scraped.sum("gapstream_batch_max_pixels")).isEqualTo(pixels);
    assertThat(scraped.sum("gapstream_batch_calibrated_frames")).isEqualTo(pixels / nominal);
    for (String batch : List.of("1", "2", "4", "8", "16")) {
      assertThat(scraped.value("gapstream_batch_calibration_frames_per_second", Map.of("batch", batch)))
          .as("batch %s", batch)
          .isPositive();
    }
  }

  @Test
  void framesNobodyPredictsAreReportedMissingAndFailTheRun() throws Exception {
    service.broker().createTopic("frames-nobody-reads", 1);

    CliRun run =
        CliRun.of(
            "load", "-b", service.bootstrapServers(), "-t", "frames-nobody-reads",
            "-p", service.config().topics().predictions(), "--rate", "20", "--warmup", "PT0S",
            "--duration", "PT1S", "--timeout", "PT2S", "--size", "64x64", "--json");

    assertThat(run.code()).isEqualTo(1);
    JsonNode report = run.json();
    assertThat(report.get("sent").asLong()).isEqualTo(20);
    assertThat(report.get("received").asLong()).isZero();
    assertThat(run.err()).contains("20 missing");
  }

  @Test
  void aMissingPredictionsTopicIsNamed() {
    CliRun run =
        CliRun.of("load", "-b", service.bootstrapServers(), "-p", "no-such-topic", "--rate", "10", "--duration", "PT1S");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("topic no-such-topic has no partitions");
  }

  @Test
  void aRateThatIsNotPositiveIsAUsageError() {
    CliRun run = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "0");

    assertThat(run.code()).isEqualTo(2);
    // The option at fault alone (it named --warmup, --duration and --timeout too).
    assertThat(run.err()).contains("--rate: a positive number of frames per second, got 0.0").doesNotContain("--rate, --warmup");
    CliRun none = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "10", "--duration", "PT0S");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("--duration: more than 0, got PT0S");

    // 2.6 billion frames: their count wrapped to a negative int, and one counted frame passed.
    CliRun month = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "1000", "--duration", "P30D");
    assertThat(month.code()).isEqualTo(2);
    assertThat(month.err()).contains("2592010000 frames (the rate times the warm-up and the duration) are more than the 100000000");
  }

  /**
   * Brokers that do not answer: the run fails within the metadata wait, naming them. Before, it
   * waited Kafka's default minute and said only "Timeout expired while fetching topic metadata".
   */
  @Test
  void brokersThatDoNotAnswerAreNamed() {
    // -X default.api.timeout.ms: the reader's wait, 15 s by default, is the consumer's own setting
    CliRun run = CliRun.of(
        "load", "-b", "127.0.0.1:1", "--rate", "1", "--duration", "PT1S", "-X", "default.api.timeout.ms=2000");
    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("cannot read predictions from topic predictions at 127.0.0.1:1 (do the brokers answer?)");
  }

  /** A frame size or encoding that does not parse names its option, exit 2, before any frame is made. */
  @Test
  void aBadFrameSizeOrEncodingIsAUsageErrorNamingItsOption() {
    CliRun size = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "1", "--size", "19x");
    assertThat(size.code()).isEqualTo(2);
    assertThat(size.err()).contains("Invalid value for option '--size': expected WIDTHxHEIGHT, e.g. 128x96: 19x");

    // One too small to draw: it failed as "error: frames must be at least ...", exit 1.
    CliRun tiny = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "1", "--size", "8x8");
    assertThat(tiny.code()).as(tiny.err()).isEqualTo(2);
    assertThat(tiny.err()).contains("--size: frames must be at least 16 px per side: 8x8");
    CliRun huge = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "1", "--size", "50000x50000");
    assertThat(huge.code()).as(huge.err()).isEqualTo(2);
    assertThat(huge.err()).contains("--size: frames must be at most 67108864 px (8192x8192) to draw: 50000x50000");

    CliRun encoding = CliRun.of("load", "-b", service.bootstrapServers(), "--rate", "1", "--encoding", "gif");
    assertThat(encoding.code()).isEqualTo(2);
    assertThat(encoding.err()).contains("Invalid value for option '--encoding': jpeg or png, not gif");
  }

  private static void cameraSendsTwentyFrames() {
    List<byte[]> frames = FrameFeed.jpegs(20, 80, 80, 5);
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of())) {
      for (int i = 0; i < frames.size(); i++) {
        var record =
            new ProducerRecord<byte[], byte[]>(service.config().topics().frames(), bytes("camera-7"), frames.get(i));
        record.headers().add("frame-id", bytes("camera-7-" + i));
        producer.send(record);
        TimeUnit.MILLISECONDS.sleep(50);
      }
      producer.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static double predictionsPublished() {
    return service.registry().find(GapstreamMetrics.PREDICTIONS_PUBLISHED).counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
