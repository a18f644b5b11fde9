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
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * nothing, and neither leaves its group nor reorders a camera's predictions meanwhile. The
 * dead-letter topic refusing writes the same way: readiness is down and no dead letter counted until
 * they go, though predictions go out meanwhile.
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
      try (GapstreamService service =
              TestPipelines.start(Map.of(
                  "kafka.bootstrap.servers", broker.bootstrapServers(),
                  "ingest.max.in.flight", "8",
                  "kafka.consumer.max.poll.interval.ms", String.valueOf(POLL_INTERVAL_MS)));
          Outputs out = Outputs.read(broker.bootstrapServers())) {
        String group = service.config().kafka().groupId();
        // Refused once the replica is in its group: a replica that may not write stays out of it.
        await().atMost(Duration.ofMinutes(1)).until(() -> service.health().isReady());
        refusePredictions(admin, true);
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
      double refusals = PromText.parse(TestPipelines.get(service, "/metrics").body()).value(
          "gapstream_publish_failures_total", Map.of("topic", "predictions", "error", "TopicAuthorizationException"));
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

      // 200 frames came in the refusal; those predicted were sent before it took effect.
      assertThat(refusals).as("sends the topic refused").isPositive();
      assertThat(predictedDuring).as("the topic refused what came in its refusal").isLessThan(100);
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(frames);
      assertThat(settled.duplicates()).as(settled.toString()).isZero();
      assertThat(order).hasSize(4);
      order.forEach((camera, indices) ->
          assertThat(indices).as("%s's predictions in frame order", camera).isSorted());
    }
  }

  /**
   * Two bad frames while the dead-letter topic refuses writes, and good frames predicted all along.
   * The {@code broker} readiness check stays down from the first refusal until the dead letters go:
   * set by whichever send had ended last, it came up with every prediction acknowledged between the
   * refusals. And {@code gapstream_frames_rejected_total} counts the dead letters once the topic has
   * them, not when the pipeline chose to dead-letter the frames (it said 2 all through the refusal).
   */
  @Test
  void aRefusingDeadLetterTopicKeepsReadinessDownAndItsDeadLettersUncountedUntilTheyGo() throws Exception {
    int frames = 60;
    long watchMs = 3_000;
    try (EmbeddedKafka broker = brokerWithAcls();
        Admin admin = broker.admin();
        GapstreamService service = TestPipelines.start(Map.of("kafka.bootstrap.servers", broker.bootstrapServers()));
        Outputs out = Outputs.read(broker.bootstrapServers());
        KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(broker.bootstrapServers(), Map.of())) {
      await().atMost(Duration.ofMinutes(1)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
      refuseWrites(admin, "frames.dlq", true);
      List<String> bad = List.of("bad-0", "bad-1");
      for (String id : bad) {
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>("frames", id.getBytes(StandardCharsets.UTF_8), "not an image".getBytes(StandardCharsets.UTF_8));
        r.headers().add("frame-id", id.getBytes(StandardCharsets.UTF_8));
        producer.send(r).get();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> refusedDeadLetters(service) >= 1);

      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "good", 4, FrameFeed.jpegs(8, 64, 64, 7));
      List<String> good = feed.ids(frames);
      CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
        try {
          feed.send(0, frames, frames * 1000.0 / watchMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      List<Boolean> brokerCheck = new ArrayList<>();
      long watchEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(watchMs);
      while (System.nanoTime() < watchEnd) {
        brokerCheck.add(service.health().checks().get("broker"));
        TimeUnit.MILLISECONDS.sleep(20);
      }
      // Predictions go out while the dead letters wait: awaited, the topic still refusing them (the
      // watch's fixed 3 s need not hold a prediction's way through the pipeline on a loaded machine).
      await().atMost(Duration.ofSeconds(30)).until(() -> out.tally(good).predicted() > 0);
      int predictedMeanwhile = out.tally(good).predicted();
      double countedMeanwhile = rejected(service);
      int deadLettersMeanwhile = out.tally(bad).deadLettered();
      HttpResponse<String> readyMeanwhile = TestPipelines.get(service, "/health/ready");
      double refusals = refusedDeadLetters(service);
      sending.get(1, TimeUnit.MINUTES);

      refuseWrites(admin, "frames.dlq", false);
      List<String> all = new ArrayList<>(good);
      all.addAll(bad);
      Outputs.Tally done = out.await(all, Duration.ofMinutes(1));
      await().atMost(Duration.ofSeconds(30)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
      Outputs.Tally settled = out.settle(all, Duration.ofSeconds(1));
      System.out.printf(
          "dead-letter topic refusing: %d predictions in %d ms, %.0f dead-letter sends refused, broker check %d times"
              + " down and %d up; dead letters counted meanwhile %.0f; after it %s%n",
          predictedMeanwhile, watchMs, refusals, brokerCheck.stream().filter(up -> !up).count(),
          brokerCheck.stream().filter(up -> up).count(), countedMeanwhile, settled);

      assertThat(predictedMeanwhile).as("predictions went out while the dead letters were refused").isPositive();
      assertThat(deadLettersMeanwhile).isZero();
      assertThat(brokerCheck).as("the broker check while the dead-letter topic refused").isNotEmpty().containsOnly(false);
      assertThat(readyMeanwhile.statusCode()).as(readyMeanwhile.body()).isEqualTo(503);
      assertThat(countedMeanwhile).as("dead letters counted before the topic took them").isZero();
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(frames);
      assertThat(settled.deadLettered()).isEqualTo(bad.size());
      assertThat(rejected(service)).as("each dead letter counted once it went").isEqualTo(bad.size());
    }
  }

  /**
   * One bad frame while the dead-letter topic refuses writes, then 200 good frames of the same
   * camera (one partition) against an in-flight bound of 16. The dead letter holds the partition's
   * commit position, so every frame behind it is read again after a restart, finished or not: the
   * bound counts them, the consumer pauses at it, and no more than the bound's worth is predicted
   * past the frame until the topic takes it. Before, only unfinished frames counted: the stuck dead
   * letter counted 1, all 200 were predicted, the consumer never paused, and the offset trackers
   * grew with every frame for as long as the topic refused.
   */
  @Test
  void aDeadLetterTheTopicRefusesHoldsTheConsumerAtTheBound() throws Exception {
    int frames = 200;
    int bound = 16;
    try (EmbeddedKafka broker = brokerWithAcls();
        Admin admin = broker.admin();
        GapstreamService service = TestPipelines.start(Map.of(
            "kafka.bootstrap.servers", broker.bootstrapServers(),
            "ingest.max.in.flight", String.valueOf(bound)));
        Outputs out = Outputs.read(broker.bootstrapServers());
        KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(broker.bootstrapServers(), Map.of())) {
      String group = service.config().kafka().groupId();
      await().atMost(Duration.ofMinutes(1)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
      refuseWrites(admin, "frames.dlq", true);
      ProducerRecord<byte[], byte[]> bad = new ProducerRecord<>(
          "frames", "camera-0".getBytes(StandardCharsets.UTF_8), "not an image".getBytes(StandardCharsets.UTF_8));
      bad.headers().add("frame-id", "held-bad".getBytes(StandardCharsets.UTF_8));
      producer.send(bad).get();
      await().atMost(Duration.ofSeconds(30)).until(() -> refusedDeadLetters(service) >= 1);

      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "held", 1, FrameFeed.jpegs(8, 64, 64, 11));
      List<String> good = feed.ids(frames);
      feed.send(0, frames, 0);
      await().atMost(Duration.ofSeconds(30)).until(() -> paused(service));
      // The frames taken in before the pause are predicted (only their commits wait): awaited, not
      // assumed done within the 2 s that follow.
      await().atMost(Duration.ofSeconds(30)).until(() -> out.tally(good).predicted() > 0);
      TimeUnit.SECONDS.sleep(2); // time for frames past the bound to be predicted, were any taken in
      int predictedMeanwhile = out.tally(good).predicted();
      boolean stillPaused = paused(service);

      refuseWrites(admin, "frames.dlq", false);
      List<String> all = new ArrayList<>(good);
      all.add("held-bad");
      Outputs.Tally done = out.await(all, Duration.ofMinutes(1));
      Outputs.Tally settled = out.settle(all, Duration.ofSeconds(1));
      System.out.printf("dead letter refused: %d of %d frames behind it predicted meanwhile; after it %s%n",
          predictedMeanwhile, frames, settled);

      assertThat(stillPaused).as("the consumer held while the dead letter waited").isTrue();
      assertThat(predictedMeanwhile).as("frames predicted past the waiting dead letter").isPositive().isLessThan(bound);
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(frames);
      assertThat(settled.deadLettered()).isEqualTo(1);
      assertThat(settled.duplicates()).as(settled.toString()).isZero();
      var ends = new HashMap<>(KafkaState.endOffsets(admin, "frames"));
      ends.values().removeIf(end -> end == 0);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(ends));
    }
  }

  private static double rejected(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_frames_rejected_total");
  }

  private static double refusedDeadLetters(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).value(
        "gapstream_publish_failures_total", Map.of("topic", "frames.dlq", "error", "TopicAuthorizationException"));
  }

  private static boolean paused(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_consumer_paused") == 1.0;
  }

  /**
   * A broker with gapstream's topics that checks ACLs, and lets every principal do everything where
   * no ACL names the resource.
   */
  private static EmbeddedKafka brokerWithAcls() {
    return brokerWithAcls(4);
  }

  /** As {@link #brokerWithAcls()}, its topics with {@code partitions} partitions. */
  static EmbeddedKafka brokerWithAcls(int partitions) {
    EmbeddedKafka broker = EmbeddedKafka.builder()
        .brokerProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        .brokerProperty("allow.everyone.if.no.acl.found", "true")
        .start();
    KafkaState.createTopics(broker, partitions);
    return broker;
  }

  private static void refusePredictions(Admin admin, boolean refuse) throws Exception {
    refuseWrites(admin, "predictions", refuse);
  }

  /**
   * Denies every principal writes to {@code name} (everything else on it stays allowed), or lifts
   * that: the broker answers each produce with an authorization error, which the producer does not
   * retry.
   */
  static void refuseWrites(Admin admin, String name, boolean refuse) throws Exception {
    refuse(admin, name, AclOperation.WRITE, refuse);
  }

  /** Denies every principal {@code operation} on topic {@code name}, everything else allowed; or lifts that. */
  static void refuse(Admin admin, String name, AclOperation operation, boolean refuse) throws Exception {
    ResourcePattern topic = new ResourcePattern(ResourceType.TOPIC, name, PatternType.LITERAL);
    List<AclBinding> acls = List.of(
        new AclBinding(topic, new AccessControlEntry("User:*", "*", AclOperation.ALL, AclPermissionType.ALLOW)),
        new AclBinding(topic, new AccessControlEntry("User:*", "*", operation, AclPermissionType.DENY)));
    if (refuse) {
      admin.createAcls(acls).all().get();
    } else {
      admin.deleteAcls(acls.stream().map(AclBinding::toFilter).toList()).all().get();
    }
  }
}
