package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.StalledAcks;
import dev.gapstream.testing.TestPipelines;
import io.micrometer.core.instrument.DistributionSummary;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stop with a backlog in flight: the frames still to decode go on filling batches. Before, every
 * frame decoded after the stop ran as a batch of its own (each decode emptied the batcher), so a
 * drain ran at the batch-of-one rate and could overrun shutdown.timeout.ms.
 */
@ExtendWith(BlockedThreadGuard.class)
class DrainIT {

  @Test
  void framesDecodedDuringADrainStillFillBatches() throws Exception {
    int frames = 600;
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4);
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "drain", 4, FrameFeed.jpegs(16, 128, 128, 5));
      List<String> ids = feed.ids(frames);
      feed.send(0, frames, 0);
      GapstreamService service = TestPipelines.start(Map.of(
          "kafka.bootstrap.servers", broker.bootstrapServers(),
          "batch.max.size", "16",
          "ingest.max.in.flight", "256"));
      DistributionSummary batches;
      long countBefore;
      double framesBefore;
      try {
        batches = service.registry().get(GapstreamMetrics.BATCH_SIZE).summary();
        await().atMost(Duration.ofMinutes(1)).until(() -> out.tally(ids).predicted() >= 16);
        countBefore = batches.count();
        framesBefore = batches.totalAmount();
      } finally {
        service.close();
      }
      long drainedBatches = batches.count() - countBefore;
      double drainedFrames = batches.totalAmount() - framesBefore;
      Outputs.Tally atStop = out.settle(ids, Duration.ofSeconds(1));
      System.out.printf("drain: %.0f frames in %d batches; at stop %s%n", drainedFrames, drainedBatches, atStop);

      assertThat(drainedFrames).as("frames in flight at the stop, run by the drain").isGreaterThanOrEqualTo(64);
      assertThat(drainedFrames / drainedBatches).as("frames a batch in the drain").isGreaterThanOrEqualTo(8);
      assertThat(atStop.duplicates()).isZero();
    }
  }

  /**
   * Readiness is down while a stop drains (its {@code draining} check), so that a Service sends
   * nothing more to a replica on its way out: acknowledgements held back, the drain waits for the
   * frames in flight, readiness says so, and the frames go once the acknowledgements come. The
   * process test of SIGTERM can only watch this when its drain happens to last long enough.
   */
  @Test
  void readinessIsDownWhileADrainWaits() throws Exception {
    int frames = 40;
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4);
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "ready", 4, FrameFeed.jpegs(8, 64, 64, 3));
      List<String> ids = feed.ids(frames);
      GapstreamService service = TestPipelines.start(Map.of(
          "kafka.bootstrap.servers", broker.bootstrapServers(),
          "kafka.producer.interceptor.classes", StalledAcks.class.getName()));
      try {
        await().atMost(Duration.ofMinutes(1)).until(() -> service.health().isReady());
        feed.send(0, 1, 0);
        await().atMost(Duration.ofMinutes(1)).until(() -> out.tally(ids).predicted() == 1);
        StalledAcks.stall();
        feed.send(1, frames, 0);
        await().atMost(Duration.ofSeconds(30)).until(() ->
            service.registry().get(GapstreamMetrics.FRAMES_IN_FLIGHT).gauge().value() > 0);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(service::close);
        await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.FALSE.equals(service.health().checks().get("draining")));
        assertThat(TestPipelines.get(service, "/health/ready").statusCode())
            .as("readiness while the drain waits: %s", service.health().checks())
            .isEqualTo(503);
        assertThat(closing).as("the drain waits for the acknowledgements").isNotDone();
        StalledAcks.release();
        closing.get(1, TimeUnit.MINUTES);
      } finally {
        StalledAcks.release();
        service.close();
      }
      Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
      assertThat(done.predicted()).as(done.toString()).isEqualTo(frames);
    }
  }
}
