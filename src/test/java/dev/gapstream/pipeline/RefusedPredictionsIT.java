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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The predictions topic refuses every prediction for a while (an ACL denies writes to it, then is
 * removed), as a topic would whose writes fail for longer than the producer's delivery timeout: the pipeline sends each again until the topic takes it, loses
 * nothing, and neither leaves its group nor reorders a camera's predictions meanwhile.
 *
 * <p>At-least-once only: in exactly-once mode a refused send dooms the transaction and the pipeline
 * stops for a restart, by design.
 */
@ExtendWith(BlockedThreadGuard.class)
class RefusedPredictionsIT {

  private static final long POLL_INTERVAL_MS = 3_000;

  /**
   * A burst of 60 frames against an in-flight bound of 8, and the topic refusing for 10 s, over three
   * times {@code max.poll.interval.ms} (3 s here; five minutes by default, which a slow model or an
   * output outage reaches): the consumer pauses at the bound. A consumer that stops polling while
   * paused is put out of its group at {@code max.poll.interval.ms} (before the fix it was, and its
   * rejoining published 23 predictions twice); this one keeps polling and stays the group's member
   * throughout, and once the topic takes predictions again every frame is predicted once and every
   * offset committed.
   */
  @Test
  void aPauseLongerThanThePollIntervalKeepsTheConsumerInItsGroup() throws Exception {
    int frames = 60;
    long stallMs = 10_000;
    try (EmbeddedKafka broker = brokerWithAcls();
        Admin admin = broker.admin()) {
      refusePredictions(admin, true);
      try (GapstreamService service =
              TestPipelines.start(Map.of(
                  "kafka.bootstrap.servers", broker.bootstrapServers(),
                  "ingest.max.in.flight", "8",
                  "kafka.consumer.max.poll.interval.ms", String.valueOf(POLL_INTERVAL_MS)));
          Outputs out = Outputs.read(broker.bootstrapServers())) {
        String group = service.config().kafka().groupId();
        await().atMost(Duration.ofMinutes(1)).until(() -> KafkaState.members(admin, group) == 1);
        FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "pause", 4, FrameFeed.jpegs(8, 64, 64, 3));
        List<String> ids = feed.ids(frames);
        feed.send(0, frames, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> paused(service));

        List<Integer> members = new ArrayList<>();
        long stallEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stallMs);
        while (System.nanoTime() < stallEnd) {
          members.add(KafkaState.members(admin, group));
          TimeUnit.MILLISECONDS.sleep(500);
        }
        boolean stillPaused = paused(service);
        int predictedInStall = out.tally(ids).predicted();
        PromText metrics = PromText.parse(TestPipelines.get(service, "/metrics").body());
        double refusals = metrics.value("gapstream_publish_failures_total",
            Map.of("topic", "predictions", "error", "TopicAuthorizationException"));
        double otherFailures = metrics.sum("gapstream_publish_failures_total") - refusals;
        refusePredictions(admin, false);
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
        Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(2));
        System.out.printf(
            "long pause: group members sampled during the %d ms stall %s; paused at its end %s;"
                + " predicted in it %d; sends refused in it %.0f (other failures %.0f); after it %s%n",
            stallMs, members, stillPaused, predictedInStall, refusals, otherFailures, settled);

        assertThat(stillPaused).as("the pipeline was held at its bound all along").isTrue();
        assertThat(predictedInStall).isZero();
        // Each partition's first refused prediction is sent again and again, every refusal counted.
        assertThat(refusals).as("refused sends, counted by topic and error").isGreaterThanOrEqualTo(2);
        assertThat(otherFailures).isZero();
        assertThat(members).as("the consumer stayed in its group while paused").isNotEmpty().containsOnly(1);
        assertThat(done.lost()).as(done.toString()).isZero();
        assertThat(settled.predicted()).isEqualTo(frames);
        assertThat(settled.duplicates()).as(settled.toString()).isZero();
        var ends = new HashMap<>(KafkaState.endOffsets(admin, "frames"));
        ends.values().removeIf(end -> end == 0); // partitions no frame went to have nothing to commit
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(ends));
      }
    }
  }

  /**
   * Four cameras at 40 frames/s, and the topic refusing for 5 s in the middle: some 200 predictions
   * wait, each first refused at another moment. Sent again each on its own timer (before the fix),
   * they went out in the order their delays ran out; now each partition's go in the order they came.
   */
  @Test
  void predictionsSentAgainKeepEachCamerasOrder() throws Exception {
    int frames = 480;
    long refusalMs = 5_000;
    try (EmbeddedKafka broker = brokerWithAcls();
        Admin admin = broker.admin();
        GapstreamService service = TestPipelines.start(Map.of("kafka.bootstrap.servers", broker.bootstrapServers()));
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      await().atMost(Duration.ofMinutes(1)).until(() -> KafkaState.members(admin, service.config().kafka().groupId()) == 1);
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "order", 4, FrameFeed.jpegs(8, 64, 64, 5));
      List<String> ids = feed.ids(frames);
      CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
        try {
          feed.send(0, frames, 40);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      await().atMost(Duration.ofMinutes(1)).until(() -> out.tally(ids).predicted() >= 80);

      refusePredictions(admin, true);
      int predictedBefore = out.tally(ids).predicted();
      TimeUnit.MILLISECONDS.sleep(refusalMs);
      int predictedDuring = out.tally(ids).predicted() - predictedBefore;
      refusePredictions(admin, false);
      sending.get(1, TimeUnit.MINUTES);
      Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
      Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(2));
      Map<String, List<Integer>> order = new HashMap<>();
      out.perKeyOrder().forEach((camera, inOrder) ->
          order.put(camera, inOrder.stream().map(id -> Integer.parseInt(id.substring("order-".length()))).toList()));
      System.out.printf(
          "refused for %d ms: %d predictions came meanwhile (sent before the refusal); %s%n",
          refusalMs, predictedDuring, settled);

      assertThat(predictedDuring).as("the topic refused what came in its refusal").isLessThan(40);
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(frames);
      assertThat(settled.duplicates()).as(settled.toString()).isZero();
      assertThat(order).hasSize(4);
      order.forEach((camera, indices) ->
          assertThat(indices).as("%s's predictions in frame order", camera).isSorted());
    }
  }

  private static boolean paused(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_consumer_paused") == 1.0;
  }

  /**
   * A broker with gapstream's topics that checks ACLs, and lets every principal do everything where
   * no ACL names the resource.
   */
  private static EmbeddedKafka brokerWithAcls() {
    EmbeddedKafka broker = EmbeddedKafka.builder()
        .brokerProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        .brokerProperty("allow.everyone.if.no.acl.found", "true")
        .start();
    KafkaState.createTopics(broker, 4);
    return broker;
  }

  /**
   * Denies every principal writes to the predictions topic (everything else on it stays allowed),
   * or lifts that: the broker answers each produce with an authorization error, which the producer
   * does not retry.
   */
  private static void refusePredictions(Admin admin, boolean refuse) throws Exception {
    ResourcePattern topic = new ResourcePattern(ResourceType.TOPIC, "predictions", PatternType.LITERAL);
    List<AclBinding> acls = List.of(
        new AclBinding(topic, new AccessControlEntry("User:*", "*", AclOperation.ALL, AclPermissionType.ALLOW)),
        new AclBinding(topic, new AccessControlEntry("User:*", "*", AclOperation.WRITE, AclPermissionType.DENY)));
    if (refuse) {
      admin.createAcls(acls).all().get();
    } else {
      admin.deleteAcls(acls.stream().map(AclBinding::toFilter).toList()).all().get();
    }
  }
}
