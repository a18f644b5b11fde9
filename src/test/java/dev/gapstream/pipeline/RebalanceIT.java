package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.publish.ExactlyOnceDelivery;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.StalledAcks;
import dev.gapstream.testing.TestPipelines;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * A second replica joins the group mid-stream and leaves it gracefully, in exactly-once mode: a
 * {@code read_committed} reader sees every frame's prediction once. Under Kafka's default, eager
 * assignment each rebalance revokes every partition of the first replica with frames in flight;
 * under the consumer protocol (KIP-848) and cooperative assignment only those that move.
 */
@ExtendWith(BlockedThreadGuard.class)
class RebalanceIT {

  /** Frames a second while replicas join and leave. */
  private static final double RATE = 150;
  private static final double COOPERATIVE_RATE = 120;

  @ParameterizedTest
  @EnumSource(value = GroupProtocol.class, names = {"EAGER", "CONSUMER"}) // COOPERATIVE: below
  void aReplicaJoiningAndLeavingMidStreamPublishesEachFrameOnce(GroupProtocol protocol) throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "rb", 8, FrameFeed.jpegs(32, 64, 64, 3));
      try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"));
          GapstreamService first = replica(broker, "first", protocol);
          FrameFeed.Stream sending = feed.stream(RATE)) {
        await().atMost(Duration.ofMinutes(1)).until(() -> published(first) > 0);
        try (GapstreamService second = replica(broker, "second", protocol)) {
          // Mid-stream: the second replica takes partitions from the first and publishes frames of
          // its own, while the first goes on with what it kept.
          await().atMost(Duration.ofMinutes(1)).until(() -> published(second) >= 50);
          double firstSoFar = published(first);
          await().atMost(Duration.ofMinutes(1)).until(() -> published(first) > firstSoFar);
        }
        // Frames came before the join, during it and after the leave: two seconds' more.
        List<String> ids = sending.stopAfter((int) (2 * RATE), Duration.ofMinutes(1));
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
        Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
        System.out.println("a replica joined and left, exactly-once (" + protocol + "): " + settled);
        assertThat(done.lost()).as(done.toString()).isZero();
        assertThat(settled.predicted()).isEqualTo(ids.size());
        assertThat(settled.duplicates()).as("read_committed sees each prediction once").isZero();
        assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
        assertThat(first.health().isLive()).isTrue();
      }
    }
  }

  /**
   * Cooperative rebalances while the replica commits transactions back to back: each moves the
   * group to a new generation before the consumer has it (a cooperative rebalance revokes nothing
   * first), and the broker refuses the offsets of a transaction open across it. The replica sends
   * that transaction's outputs again under the new generation and goes on; a {@code read_committed}
   * reader sees each frame's prediction once. (The replica failed at the first such rebalance.) The
   * other member is a plain consumer that takes partitions for a second and commits nothing.
   */
  @Test
  void cooperativeRebalancesAcrossOpenTransactionsKeepTheReplicaAndEachFrameOnce() throws Exception {
    try (LogCapture log = new LogCapture(ExactlyOnceDelivery.class);
        EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "coop", 8, FrameFeed.jpegs(32, 64, 64, 7));
      try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"));
          GapstreamService first = replica(
              broker, "first", GroupProtocol.COOPERATIVE, Map.of("delivery.commit.interval.ms", "0"));
          FrameFeed.Stream sending = feed.stream(COOPERATIVE_RATE)) {
        await().atMost(Duration.ofMinutes(1)).until(() -> published(first) > 0);
        // Whether a commit falls between the broker's new generation and the consumer's is a race:
        // rounds go on (frames coming all along; a round takes 3-5 s) until one has, at least two.
        int rounds = 0;
        while (rounds < 2 || resent(log) == 0 && rounds < 5) {
          rounds++;
          takePartitionsForASecond(broker, GroupProtocol.COOPERATIVE);
          TimeUnit.SECONDS.sleep(1); // the rebalance that gives them back
          assertThat(first.health().isLive()).as("the replica after join and leave " + rounds).isTrue();
        }
        List<String> ids = sending.stopAfter((int) (2 * COOPERATIVE_RATE), Duration.ofMinutes(1));
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
        Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
        System.out.println("cooperative rebalances across open transactions: " + settled + "; " + rounds
            + " joins and leaves; " + resent(log) + " transactions refused and sent again");
        assertThat(resent(log)).as("transactions refused for an old generation: what this test is about").isPositive();
        assertThat(first.registry().get(GapstreamMetrics.TRANSACTIONS_RESENT).counter().count())
            .as("gapstream_transactions_resent_total")
            .isPositive()
            .isLessThanOrEqualTo(resent(log));
        assertThat(done.lost()).as(done.toString()).isZero();
        assertThat(settled.predicted()).isEqualTo(ids.size());
        assertThat(settled.duplicates()).as("read_committed sees each prediction once").isZero();
        assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
        assertThat(first.health().isLive()).isTrue();
      }
    }
  }

  /**
   * An eager rebalance revokes every partition of a replica whose in-flight bound is full. The
   * frames it had not decoded yet are dropped then (their next owner reads them again): decoded and
   * run only to have their outputs dropped, they kept the consumer paused until half of them had
   * gone through the model. What still runs for nothing is what was decoded ahead or running: a few
   * batches a revocation. The test's plain consumer takes partitions and gives them back: two.
   */
  @Test
  void aRevokedPartitionsFramesWaitingToBeDecodedAreNotRunForNothing() throws Exception {
    int frames = 3000;
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "backlog", 8, FrameFeed.jpegs(32, 64, 64, 5));
      feed.send(0, frames, 0);
      Map<String, String> settings = GroupProtocol.EAGER.settings();
      settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
      settings.put("kafka.group.id", "gapstream");
      settings.put("ingest.max.in.flight", "1000"); // a backlog far beyond what is decoded ahead
      GapstreamConfig config = TestPipelines.config(settings);
      try (Outputs out = Outputs.read(broker.bootstrapServers());
          GapstreamService first = GapstreamService.start(config, TestPipelines.TIGHT)) {
        await().atMost(Duration.ofMinutes(1)).until(() -> first.registry().get(GapstreamMetrics.CONSUMER_PAUSED).gauge().value() == 1);
        takePartitionsForASecond(broker, GroupProtocol.EAGER);
        List<String> ids = feed.ids(frames);
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
        assertThat(done.lost()).as(done.toString()).isZero();
        // Counted at their acknowledgements, which may follow the reader's records by a moment.
        await().atMost(Duration.ofSeconds(10)).until(() -> outputs(first) >= done.predicted() + done.duplicates() + done.deadLettered());
        double ran = first.registry().get(GapstreamMetrics.BATCH_SIZE).summary().totalAmount();
        double forNothing = ran - outputs(first);
        int batch = config.batch().maxSize();
        int concurrency = config.inference().concurrency();
        int decodedAheadOrRunning = batch * (concurrency + 1) + batch * concurrency;
        System.out.printf("a full replica's partitions revoked and given back: %.0f frames run, %.0f of them for"
            + " nothing (%d decoded ahead or running at most, a revocation); %s%n", ran, forNothing, decodedAheadOrRunning, done);
        assertThat(forNothing).as("frames run whose outputs were dropped").isLessThanOrEqualTo(2.0 * decodedAheadOrRunning);
      }
    }
  }

  /** Predictions and dead letters the replica published. */
  private static double outputs(GapstreamService replica) {
    return published(replica) + replica.registry().find(GapstreamMetrics.FRAMES_REJECTED).counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  /** How many transactions the replica sent again: what ExactlyOnceDelivery logged of them. */
  private static long resent(LogCapture log) {
    return log.count("The group moved on");
  }

  /** A plain consumer joins the group, holds what it is given for a second, commits nothing, leaves. */
  private static void takePartitionsForASecond(EmbeddedKafka broker, GroupProtocol protocol) {
    try (KafkaConsumer<byte[], byte[]> other =
        new KafkaConsumer<>(protocol.plainConsumer(broker.bootstrapServers(), "gapstream"))) {
      other.subscribe(List.of("frames"));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        other.poll(Duration.ofMillis(50));
        return !other.assignment().isEmpty();
      });
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (System.nanoTime() < until) {
        other.poll(Duration.ofMillis(50));
      }
    }
  }

  /**
   * The first replica's transaction cannot commit while its partitions are revoked: its producer
   * hears no acknowledgement ({@link StalledAcks}, as behind an output topic's leader that does not
   * answer). After the revocation's wait (half its rebalance timeout here: 5 s of 10; 30 s by
   * default) the replica fails and aborts that transaction instead
   * of committing it later, when the revoked partitions' offsets would have gone from it and their
   * next owner would publish their frames too. Once acknowledgements flow again, a
   * {@code read_committed} reader sees each frame's prediction once.
   */
  @Test
  @SuppressWarnings("try") // the failed replica is closed inside its try, to see how it stops
  void aRevocationWhoseTransactionCannotCommitInTimeAbortsIt() throws Exception {
    int frames = 200;
    try (LogCapture log = new LogCapture(PipelineVerticle.class);
        EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "stuck", 8, FrameFeed.jpegs(16, 64, 64, 5));
      List<String> ids = feed.ids(frames);
      try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"));
          GapstreamService first =
              replica(broker, "first", GroupProtocol.EAGER, Map.of(
                  "kafka.producer.interceptor.classes", StalledAcks.class.getName(),
                  "kafka.consumer.max.poll.interval.ms", "10000"))) {
        feed.send(0, frames / 2, 0);
        await().atMost(Duration.ofMinutes(1)).until(() -> out.predictions(ids.get(0)) == 1);
        StalledAcks.stall();
        try {
          feed.send(frames / 2, frames, 0);
          // The first replica takes the second half, and cannot publish it: its transaction is open.
          await().atMost(Duration.ofSeconds(30)).until(() -> StalledAcks.sentWhileStalled() > 0);
          try (GapstreamService second = replica(broker, "second")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !first.health().isLive());
            assertThat(first.health().isReady()).as("a failed pipeline is not ready").isFalse();
            assertThat(log.messages()).anyMatch(m -> m.contains("the open transaction did not commit within 5000 ms"));
            StalledAcks.release();
            // Its stop does not wait out shutdown.timeout.ms for frames that can no longer commit.
            first.close();
            assertThat(log.has("Stopping a failed pipeline")).isTrue();
            assertThat(log.has("Drain timed out")).isFalse();
            Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
            Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
            System.out.println("a revocation whose transaction could not commit in time: " + settled);
            assertThat(done.lost()).as(done.toString()).isZero();
            assertThat(settled.duplicates()).as("read_committed sees each prediction once").isZero();
            assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
            assertThat(second.health().isLive()).isTrue();
          }
        } finally {
          StalledAcks.release();
        }
      }
    }
  }

  /**
   * A replica fenced while it drains for a stop (another producer took its transactional id) fails
   * then: its frames in flight can no longer commit, and neither finish nor drop. Its stop goes on
   * to the abort and the leave at once; before, the drain waited out {@code shutdown.timeout.ms} (a
   * minute here) for them. The next replica publishes every frame, once.
   */
  @Test
  void aReplicaFencedWhileDrainingStopsWithoutWaitingOutTheDrain() throws Exception {
    int frames = 2000;
    try (LogCapture log = new LogCapture(PipelineVerticle.class);
        EmbeddedKafka broker = KafkaState.brokerWithTopics(4)) {
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "fenced", 8, FrameFeed.jpegs(16, 224, 224, 6));
      List<String> ids = feed.ids(frames);
      feed.send(0, frames, 0);
      try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"));
          GapstreamService first = replica(broker, "first", GroupProtocol.EAGER, Map.of(
              "ingest.max.in.flight", String.valueOf(frames), "shutdown.timeout.ms", "60000"))) {
        await().atMost(Duration.ofMinutes(1)).until(() -> published(first) > 0);
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(first::close);
        await().atMost(Duration.ofSeconds(10)).until(() -> log.has("Draining"));
        fence(broker, "gapstream-first");
        stopped.get(30, TimeUnit.SECONDS); // the drain alone would have taken 60
        assertThat(log.has("Pipeline failed")).as("fenced while draining").isTrue();
        assertThat(log.has("Drain ended by the failure")).isTrue();
        assertThat(log.has("Drain timed out")).isFalse();
        try (GapstreamService second = replica(broker, "second")) {
          Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
          Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
          System.out.println("a replica fenced while draining, then the next one: " + settled);
          assertThat(done.lost()).as(done.toString()).isZero();
          assertThat(settled.duplicates()).as("read_committed sees each prediction once").isZero();
          assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
          assertThat(second.health().isLive()).isTrue();
        }
      }
    }
  }

  /** A producer with {@code transactionalId} starts: the one that had it is fenced at its next send. */
  private static void fence(EmbeddedKafka broker, String transactionalId) {
    Map<String, Object> config = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    try (KafkaProducer<byte[], byte[]> fencing = new KafkaProducer<>(config)) {
      fencing.initTransactions();
    }
  }

  /** What a class logs from the capture's start to its close. */
  private static final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture(Class<?> source) {
      logger = (Logger) LoggerFactory.getLogger(source);
      appender.start();
      logger.addAppender(appender);
    }

    List<String> messages() {
      synchronized (appender) { // AppenderBase appends under the appender's lock
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      }
    }

    /** How many messages start with {@code start}. */
    long count(String start) {
      return messages().stream().filter(m -> m.startsWith(start)).count();
    }

    boolean has(String start) {
      return count(start) > 0;
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
    }
  }

  private static double published(GapstreamService replica) {
    return replica.registry().find(GapstreamMetrics.PREDICTIONS_PUBLISHED).counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  private static GapstreamService replica(EmbeddedKafka broker, String name) {
    return replica(broker, name, GroupProtocol.EAGER);
  }

  private static GapstreamService replica(EmbeddedKafka broker, String name, GroupProtocol protocol) {
    return replica(broker, name, protocol, Map.of());
  }

  private static GapstreamService replica(
      EmbeddedKafka broker, String name, GroupProtocol protocol, Map<String, String> extra) {
    Map<String, String> settings = protocol.settings();
    settings.putAll(extra);
    settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
    settings.put("kafka.group.id", "gapstream");
    settings.put("delivery.guarantee", "exactly-once");
    settings.put("delivery.transactional.id", "gapstream-" + name);
    return GapstreamService.start(TestPipelines.config(settings), TestPipelines.TIGHT);
  }
}
