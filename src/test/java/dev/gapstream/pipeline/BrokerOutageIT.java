package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The broker (same port, same data) goes away for ten seconds mid-stream and comes back: {@code
 * /health/ready} says 503 while it is away and 200 once the pipeline is connected again, no frame
 * is lost, and the committed offsets still reach the end (a commit that failed in the outage is
 * retried).
 */
@ExtendWith(BlockedThreadGuard.class)
class BrokerOutageIT {

  private static final int FRAMES = 1_000;
  private static final long OUTAGE_MS = 10_000;

  @Test
  void aTenSecondOutageLosesNothingAndReadinessReflectsIt() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      GapstreamService service =
          GapstreamService.start(
              TestPipelines.config(Map.of("kafka.bootstrap.servers", broker.bootstrapServers())),
              TestPipelines.TIGHT);
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "outage", 8, FrameFeed.jpegs(16, 64, 64, 4));
      List<String> ids = feed.ids(FRAMES);
      try (Outputs out = Outputs.read(broker.bootstrapServers());
          Admin admin = broker.admin()) {
        await().atMost(Duration.ofMinutes(1)).until(() -> status(service) == 200);
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
          try {
            feed.send(0, FRAMES, 100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        await().atMost(Duration.ofMinutes(1)).until(() -> out.tally(ids).predicted() >= FRAMES / 5);

        broker.stop();
        long stoppedAt = System.nanoTime();
        long notReadyAfterMs = -1;
        while (System.nanoTime() - stoppedAt < TimeUnit.MILLISECONDS.toNanos(OUTAGE_MS)) {
          if (notReadyAfterMs < 0 && status(service) == 503) {
            notReadyAfterMs = (System.nanoTime() - stoppedAt) / 1_000_000;
          }
          TimeUnit.MILLISECONDS.sleep(200);
        }
        boolean stillNotReady = status(service) == 503;
        double readyInOutage = readyGauge(service);
        broker.restart();
        long restartedAt = System.nanoTime();
        await().atMost(Duration.ofMinutes(2)).until(() -> status(service) == 200);
        long readyAgainMs = (System.nanoTime() - restartedAt) / 1_000_000;

        sending.get(3, TimeUnit.MINUTES);
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(3));
        long allDoneMs = (System.nanoTime() - restartedAt) / 1_000_000;
        Outputs.Tally tally = out.tally(ids); // at-least-once: duplicates allowed, so no wait for them
        System.out.printf(
            "broker outage %d ms: 503 after %d ms, still 503 at the end %s; ready again %d ms after restart;"
                + " all frames done %d ms after restart; %s%n",
            OUTAGE_MS, notReadyAfterMs, stillNotReady, readyAgainMs, allDoneMs, tally);

        assertThat(notReadyAfterMs).as("readiness went down in the outage").isNotNegative();
        assertThat(stillNotReady).as("and stayed down").isTrue();
        assertThat(readyInOutage).as("gapstream_ready in the outage").isZero();
        assertThat(readyGauge(service))
            .as("gapstream_ready once the broker is back")
            .isEqualTo(1.0);
        assertThat(done.lost()).as(done.toString()).isZero();
        assertThat(tally.predicted()).isEqualTo(FRAMES);
        var ends = KafkaState.endOffsets(admin, "frames");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(KafkaState.committed(admin, service.config().kafka().groupId(), "frames")).isEqualTo(ends));
      } finally {
        service.close();
      }
    }
  }

  /**
   * SIGTERM while the broker is away: the final commit and leaving the group each wait on a broker
   * that does not answer, and Kubernetes kills a pod that is not done within its grace period (60 s
   * in the manifests). The stop ends within {@code shutdown.timeout.ms} plus a few seconds for each
   * step after the drain (it took the two minutes {@code close()} waits for the pipeline, and then
   * gave up).
   */
  @Test
  void aStopDuringAnOutageEndsInTime() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2)) {
      Map<String, String> settings = Map.of(
          "kafka.bootstrap.servers", broker.bootstrapServers(),
          "shutdown.timeout.ms", "5000",
          // Nothing committed before the stop: the final commit has work to do.
          "delivery.commit.interval.ms", "60000");
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "stop", 4, FrameFeed.jpegs(8, 64, 64, 6));
      List<String> ids = feed.ids(40);
      try (Outputs out = Outputs.read(broker.bootstrapServers())) {
        GapstreamService service = GapstreamService.start(TestPipelines.config(settings), TestPipelines.TIGHT);
        long stopMs;
        try {
          feed.send(0, 40, 0);
          Outputs.Tally before = out.await(ids, Duration.ofMinutes(1));
          assertThat(before.lost()).as("predicted before the outage: " + before).isZero();
        } finally {
          broker.stop();
          long t0 = System.nanoTime();
          service.close();
          stopMs = (System.nanoTime() - t0) / 1_000_000;
        }
        System.out.printf("a stop in a broker outage took %d ms%n", stopMs);
        assertThat(stopMs).as("the stop, with shutdown.timeout.ms=5000").isLessThan(30_000);
      }
    }
  }

  /** {@code gapstream_ready}, the gauge GapstreamNotReady fires on. */
  private static double readyGauge(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_ready");
  }

  private static int status(GapstreamService service) {
    try {
      return TestPipelines.get(service, "/health/ready").statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
