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
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * At-least-once across a rebalance: a replica's offsets of a revoked partition are committed
 * before the partition moves on, and none is committed after, when the broker would take it under
 * the new generation and move the next owner's committed offset back. The group's second member is
 * a plain consumer driven by the test, so that each step happens in a known order.
 */
@ExtendWith(BlockedThreadGuard.class)
class RevocationCommitIT {

  private static final String GROUP = "gapstream";
  private static final String TOPIC = "frames";
  private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

  /**
   * The pipeline's consumer, driven by hand: it commits its partitions' offsets on revocation (as
   * the pipeline's rebalance hook does); then a commit made before the rebalance but run after it
   * (as Vert.x runs one queued behind the poll that rebalances) must move neither the partition the
   * other member took, whose committed offset that member has moved on since, nor the one assigned
   * straight back (Kafka's default, eager assignment revokes both). The broker takes both: the
   * generation (the member epoch, in the consumer protocol) is current. Under the cooperative and
   * consumer protocols the partition kept is not revoked, and the commit's offset for it is news.
   */
  @ParameterizedTest
  @EnumSource(GroupProtocol.class)
  void aCommitQueuedAcrossARebalanceCarriesNoPartitionTheConsumerNoLongerHolds(GroupProtocol protocol) throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin()) {
      fill(broker, P0, P1);
      AtomicReference<PipelineConsumer> replica = new AtomicReference<>();
      AtomicBoolean revoking = new AtomicBoolean(true);
      ConsumerRebalanceListener commitOnRevoking = new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          if (!partitions.isEmpty() && revoking.getAndSet(false)) { // the rebalance, not the close
            Map<TopicPartition, OffsetAndMetadata> finished = new HashMap<>();
            partitions.forEach(tp -> finished.put(tp, new OffsetAndMetadata(7)));
            replica.get().commitRevoked(finished, Duration.ofSeconds(30));
          }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
      };
      try (PipelineConsumer first = new PipelineConsumer(consumerConfig(broker, protocol), commitOnRevoking);
          KafkaConsumer<byte[], byte[]> second = new KafkaConsumer<>(consumerConfig(broker, protocol))) {
        replica.set(first);
        first.subscribe(List.of(TOPIC), new NoListener());
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          first.poll(Duration.ofMillis(100));
          return first.assignment().size() == 2;
        });
        first.commitSync(Map.of(P0, new OffsetAndMetadata(5), P1, new OffsetAndMetadata(5)));

        Map<TopicPartition, Long> startedAt = new ConcurrentHashMap<>();
        second.subscribe(List.of(TOPIC), new NoListener() {
          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            second.committed(Set.copyOf(partitions)).forEach((tp, o) -> startedAt.put(tp, o.offset()));
          }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          first.poll(Duration.ofMillis(100));
          second.poll(Duration.ofMillis(100));
          return second.assignment().size() == 1 && first.assignment().size() == 1;
        });
        TopicPartition moved = second.assignment().iterator().next();
        TopicPartition kept = first.assignment().iterator().next();
        assertThat(startedAt).as("the next owner starts after the revocation's commit").isEqualTo(Map.of(moved, 7L));

        second.commitSync(Map.of(moved, new OffsetAndMetadata(15)));
        // Finished frames counted before the rebalance (above the commit before it, below the one
        // on revocation), committed after it.
        first.commitSync(Map.of(moved, new OffsetAndMetadata(6), kept, new OffsetAndMetadata(6)));
        assertThat(KafkaState.committed(admin, GROUP, TOPIC))
            .as("the next owner's offset and the one committed on revocation stay")
            .isEqualTo(Map.of(moved, 15L, kept, protocol == GroupProtocol.EAGER ? 7L : 6L));

        first.commitSync(Map.of(kept, new OffsetAndMetadata(12)));
        assertThat(KafkaState.committed(admin, GROUP, TOPIC))
            .as("what the consumer holds it commits")
            .isEqualTo(Map.of(moved, 15L, kept, 12L));
      }
    }
  }

  /**
   * The pipeline's consumer stood still past {@code max.poll.interval.ms}, so its heartbeat thread
   * left the group; another member took the partition and committed further. The next poll reports
   * the partition lost and, rejoining, is assigned it straight back. A commit queued before that
   * poll (as Vert.x runs one behind it) must not move the other member's offset back: the broker
   * takes it under the new generation. The poll after, the partition is the consumer's again.
   */
  @Test
  void aCommitQueuedBeforeAPollThatLostThePartitionAndGotItBackCarriesNoneOfIt() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1);
        Admin admin = broker.admin()) {
      fill(broker, P0);
      List<String> rebalances = new CopyOnWriteArrayList<>();
      ConsumerRebalanceListener recording = new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          rebalances.add("revoked " + partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          rebalances.add("assigned " + partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
          rebalances.add("lost " + partitions);
        }
      };
      Map<String, Object> standingStill = consumerConfig(broker, GroupProtocol.EAGER);
      standingStill.put("max.poll.interval.ms", "1500");
      try (PipelineConsumer first = new PipelineConsumer(standingStill, recording)) {
        first.subscribe(List.of(TOPIC), new NoListener());
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          first.poll(Duration.ofMillis(100));
          return first.assignment().size() == 1;
        });
        first.commitSync(Map.of(P0, new OffsetAndMetadata(5)));
        await("the heartbeat thread leaves the group").atMost(Duration.ofSeconds(30)).until(() ->
            admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP).members().isEmpty());

        try (KafkaConsumer<byte[], byte[]> second = new KafkaConsumer<>(consumerConfig(broker, GroupProtocol.EAGER))) {
          second.subscribe(List.of(TOPIC));
          await().atMost(Duration.ofSeconds(60)).until(() -> {
            second.poll(Duration.ofMillis(100));
            return second.assignment().size() == 1;
          });
          second.commitSync(Map.of(P0, new OffsetAndMetadata(15)));
        } // and leaves the group

        rebalances.clear();
        first.poll(Duration.ofSeconds(20));
        assertThat(rebalances).as("in one poll").containsExactly("lost [frames-0]", "assigned [frames-0]");
        first.commitSync(Map.of(P0, new OffsetAndMetadata(6)));
        assertThat(KafkaState.committed(admin, GROUP, TOPIC)).as("the other member's offset stays").isEqualTo(Map.of(P0, 15L));

        first.poll(Duration.ofMillis(100));
        first.commitSync(Map.of(P0, new OffsetAndMetadata(18)));
        assertThat(KafkaState.committed(admin, GROUP, TOPIC)).as("held again, it commits").isEqualTo(Map.of(P0, 18L));
      }
    }
  }

  /**
   * The pipeline, at-least-once, with every frame published and most of them not committed yet
   * (the commit interval defers them): when another member joins, the rebalance waits while the
   * replica commits what it finished, so that the partition's next owner starts after it rather than
   * publishing those frames again.
   */
  @ParameterizedTest
  @EnumSource(GroupProtocol.class)
  void theNextOwnerStartsAfterWhatTheRevokedReplicaFinished(GroupProtocol protocol) throws Exception {
    int frames = 40;
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin()) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), TOPIC, "handover", 8, FrameFeed.jpegs(8, 64, 64, 11));
      List<String> ids = feed.ids(frames);
      Map<String, String> settings = replicaSettings(broker, protocol);
      try (Outputs out = Outputs.read(broker.bootstrapServers());
          GapstreamService replica = GapstreamService.start(TestPipelines.config(settings), TestPipelines.TIGHT)) {
        feed.send(0, frames, 0);
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
        assertThat(done.lost()).as(done.toString()).isZero();
        // The reader can see the last outputs before the replica has their acknowledgements.
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(replica) == 0);
        Map<TopicPartition, Long> end = KafkaState.endOffsets(admin, TOPIC);
        assertThat(end.values()).as("frames on both partitions").allMatch(offset -> offset > 0);
        assertThat(KafkaState.sum(KafkaState.committed(admin, GROUP, TOPIC)))
            .as("most finished frames wait for the commit interval")
            .isLessThan(frames);

        Map<TopicPartition, Long> startedAt = nextOwnerStartsAt(broker, protocol, Duration.ofSeconds(60), () -> {});
        TopicPartition moved = startedAt.keySet().iterator().next();
        Map<TopicPartition, Long> committed = KafkaState.committed(admin, GROUP, TOPIC);
        System.out.println("revocation at-least-once (" + protocol + "): the next owner of " + moved + " started at " + startedAt
            + "; end offsets " + end + ", committed " + committed);
        assertThat(startedAt).as("the next owner starts after every frame the replica finished")
            .isEqualTo(Map.of(moved, end.get(moved)));
        if (protocol == GroupProtocol.EAGER) {
          assertThat(committed).as("an eager rebalance revokes the partition kept too").isEqualTo(end);
        } else {
          assertThat(committed).as("the partition kept is not revoked: its commit waits for the interval")
              .containsEntry(moved, end.get(moved));
        }
        assertThat(replica.health().isLive()).isTrue();
      }
    }
  }

  /**
   * A replica draining for its stop is still in the group: a replica that joins meanwhile takes
   * partitions from it, and they are handed over as at any other rebalance. (The hook once stood
   * aside from the moment the drain began, and the partitions' next owner started at their last
   * commit.) The drain here waits on frames the predictions topic refuses to take.
   */
  @Test
  void aReplicaDrainingForItsStopStillHandsItsRevokedPartitionsOver() throws Exception {
    int frames = 40;
    try (EmbeddedKafka broker = RefusedPredictionsIT.brokerWithAcls(2);
        Admin admin = broker.admin()) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), TOPIC, "drain", 8, FrameFeed.jpegs(8, 64, 64, 12));
      Map<String, String> settings = replicaSettings(broker, GroupProtocol.EAGER);
      settings.put("shutdown.timeout.ms", "20000");
      GapstreamService replica = GapstreamService.start(TestPipelines.config(settings), TestPipelines.TIGHT);
      try (Outputs out = Outputs.read(broker.bootstrapServers())) {
        feed.send(0, frames, 0);
        assertThat(out.await(feed.ids(frames), Duration.ofMinutes(2)).lost()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(replica) == 0);
        Map<TopicPartition, Long> finished = KafkaState.endOffsets(admin, TOPIC);
        assertThat(finished.values()).as("frames on both partitions").allMatch(offset -> offset > 0);

        // The predictions topic refuses writes: these frames stay in flight, their outputs retried.
        RefusedPredictionsIT.refuseWrites(admin, "predictions", true);
        feed.send(frames, frames + 8, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(replica) >= 1);
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(replica::close);

        AtomicBoolean drainingWhenMoved = new AtomicBoolean();
        Map<TopicPartition, Long> startedAt =
            nextOwnerStartsAt(broker, GroupProtocol.EAGER, Duration.ofSeconds(15), () -> drainingWhenMoved.set(!stopped.isDone()));
        assertThat(drainingWhenMoved).as("still draining when the partitions moved").isTrue();
        TopicPartition moved = startedAt.keySet().iterator().next();
        System.out.println("revocation while draining: the next owner of " + moved + " started at " + startedAt
            + "; finished up to " + finished);
        assertThat(startedAt).as("the next owner starts after every frame the draining replica finished")
            .isEqualTo(Map.of(moved, finished.get(moved)));
        stopped.get(60, TimeUnit.SECONDS);
      } finally {
        replica.close();
      }
    }
  }

  /**
   * A plain consumer joins the group, takes partitions from the replica in it, and says where each
   * would start: its committed offset, -1 for none. {@code onAssigned} runs when it has them.
   */
  private static Map<TopicPartition, Long> nextOwnerStartsAt(
      EmbeddedKafka broker, GroupProtocol protocol, Duration within, Runnable onAssigned) {
    Map<TopicPartition, Long> startedAt = new ConcurrentHashMap<>();
    try (KafkaConsumer<byte[], byte[]> next = new KafkaConsumer<>(consumerConfig(broker, protocol))) {
      next.subscribe(List.of(TOPIC), new NoListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          next.committed(Set.copyOf(partitions)).forEach((tp, o) -> startedAt.put(tp, o == null ? -1 : o.offset()));
          onAssigned.run();
        }
      });
      await().atMost(within).until(() -> {
        next.poll(Duration.ofMillis(100));
        return !startedAt.isEmpty();
      });
    }
    return startedAt;
  }

  /** A replica in the group, at-least-once, its commits after the first deferred for a minute. */
  private static Map<String, String> replicaSettings(EmbeddedKafka broker, GroupProtocol protocol) {
    Map<String, String> settings = protocol.settings();
    settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
    settings.put("kafka.group.id", GROUP);
    settings.put("delivery.commit.interval.ms", "60000"); // the first commit goes out; the rest wait
    return settings;
  }

  private static double inFlight(GapstreamService replica) throws Exception {
    return PromText.parse(TestPipelines.get(replica, "/metrics").body()).sum("gapstream_frames_in_flight");
  }

  /** Twenty one-byte records in each of {@code partitions}: offsets 0 to 19 to commit. */
  private static void fill(EmbeddedKafka broker, TopicPartition... partitions) {
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(broker.bootstrapServers(), Map.of())) {
      for (TopicPartition tp : partitions) {
        for (int i = 0; i < 20; i++) {
          producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, new byte[] {1}));
        }
      }
      producer.flush();
    }
  }

  private static Map<String, Object> consumerConfig(EmbeddedKafka broker, GroupProtocol protocol) {
    return protocol.plainConsumer(broker.bootstrapServers(), GROUP);
  }

  private static class NoListener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
  }
}
