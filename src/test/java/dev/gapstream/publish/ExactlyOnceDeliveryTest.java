package dev.gapstream.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.OnContext;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What {@link ExactlyOnceDelivery#whenDurable} waits for: an output acknowledged inside a
 * transaction is not there to stay until the transaction commits. Counted at its acknowledgement, a
 * dead letter whose transaction was then aborted was counted again when the restarted pipeline sent
 * it once more. Against Kafka's {@link MockProducer}; the sends are promises this test completes.
 */
@ExtendWith(BlockedThreadGuard.class)
class ExactlyOnceDeliveryTest {

  /** The producer's default {@code buffer.memory}: what the pipeline keeps of a transaction's outputs. */
  private static final long BUFFER_MEMORY = 32 * 1024 * 1024;

  private Vertx vertx;
  private Context loop;
  private MockProducer<byte[], byte[]> producer;
  private ExactlyOnceDelivery delivery;
  /** How many refused transactions went out again. */
  private final AtomicInteger resent = new AtomicInteger();
  /** What ran through {@code whenDurable}, in order. */
  private final List<String> durable = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    loop = vertx.getOrCreateContext();
    producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    // No offsets are committed here, so the group membership is never asked for.
    delivery = onLoop(() -> new ExactlyOnceDelivery(
        vertx, KafkaProducer.create(vertx, new RecordingProducer(producer, BUFFER_MEMORY)), () -> null, resent::incrementAndGet));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void anAcknowledgedOutputIsDurableOnceItsTransactionCommits() throws Exception {
    Promise<RecordMetadata> ack = send("dead letter");
    acknowledge(ack);
    assertThat(durable()).as("acknowledged, its transaction still open").isEmpty();

    await(onLoop(() -> delivery.commit(Map::of)));
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(durable()).containsExactly("dead letter");

    Promise<RecordMetadata> next = send("next");
    acknowledge(next);
    assertThat(durable()).as("in the next transaction").containsExactly("dead letter");
    await(onLoop(() -> delivery.commit(Map::of)));
    assertThat(durable()).containsExactly("dead letter", "next");
  }

  @Test
  void anOutputOfAnAbortedTransactionIsNeverDurable() throws Exception {
    Promise<RecordMetadata> ack = send("dead letter");
    acknowledge(ack);

    await(onLoop(() -> delivery.abandon()));
    assertThat(producer.transactionAborted()).isTrue();
    onLoop(() -> {
      delivery.whenDurable(() -> durable.add("after the abort"));
      return null;
    });
    assertThat(durable()).isEmpty();
  }

  @Test
  void anOutputOfATransactionWhoseCommitFailedIsNeverDurable() throws Exception {
    producer.commitTransactionException = new KafkaException("refused");
    Promise<RecordMetadata> ack = send("dead letter");
    acknowledge(ack);

    Future<Void> commit = onLoop(() -> delivery.commit(Map::of));
    assertThatThrownBy(() -> await(commit)).hasRootCauseMessage("refused");
    assertThat(producer.transactionAborted()).as("aborted at once, see abortQuietly").isTrue();
    assertThat(durable()).isEmpty();
  }

  /**
   * A commit that timed out (the transaction coordinator away for max.block.ms) fails with its
   * timeout. The producer then refuses the abort, as Kafka's does, with an IllegalStateException,
   * which used to escape and be reported in the timeout's place.
   */
  @Test
  void aCommitThatTimedOutFailsWithItsTimeoutThoughTheAbortIsRefused() throws Exception {
    MockProducer<byte[], byte[]> timingOut =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public synchronized void commitTransaction() {
            throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
          }

          @Override
          public synchronized void abortTransaction() {
            throw new IllegalStateException("The previous call to commitTransaction timed out and must be retried");
          }
        };
    KafkaProducer<byte[], byte[]> outputs = transactional(timingOut);
    ExactlyOnceDelivery delivering = onLoop(() -> new ExactlyOnceDelivery(vertx, outputs, () -> null, resent::incrementAndGet));
    sendOutput(delivering, outputs, "a");

    Future<Void> commit = onLoop(() -> delivering.commit(Map::of));
    assertThatThrownBy(() -> await(commit))
        .hasRootCauseInstanceOf(TimeoutException.class)
        .rootCause()
        .hasSuppressedException(new IllegalStateException("The previous call to commitTransaction timed out and must be retried"));
    assertThat(durable()).isEmpty();
  }

  /**
   * A send made while the sends that waited for a commit start (a frame finished synchronously by an
   * earlier one's completion, as an expired frame is) goes behind those still waiting. It went out
   * at once, ahead of them, and a partition's dead letters left out of order.
   */
  @Test
  void aSendMadeWhileTheWaitingOnesStartGoesBehindThem() throws Exception {
    acknowledge(send("first"));
    List<String> order = new ArrayList<>();
    RecordMetadata meta = new RecordMetadata(0, 0, 0, "frames.dlq");
    Future<Void> commit = onLoop(() -> {
      Future<Void> committed = delivery.commit(Map::of);
      delivery.send(() -> {
        order.add("b");
        delivery.send(() -> {
          order.add("d");
          return Future.succeededFuture(meta);
        });
        return Future.succeededFuture(meta);
      });
      delivery.send(() -> {
        order.add("c");
        return Future.succeededFuture(meta);
      });
      assertThat(order).as("waiting for the commit").isEmpty();
      return committed;
    });
    await(commit);
    assertThat(onLoop(() -> List.copyOf(order))).containsExactly("b", "c", "d");
  }

  /**
   * A rebalance moved the group to its next generation while a transaction was open (as a
   * cooperative one does, revoking none of its partitions): the broker refuses its offsets with the
   * generation the consumer had, and the transaction is aborted. Once the consumer has the new
   * generation its outputs go out again, in order, in a new transaction that commits with it; they
   * are durable once, then. (The pipeline failed, and its replica restarted, at such rebalances.)
   */
  @Test
  @SuppressWarnings("removal") // a consumer's group metadata, made here as the consumer would
  void aTransactionRefusedForAnOldGenerationIsSentAgainUnderTheNewOne() throws Exception {
    AtomicInteger brokerGeneration = new AtomicInteger(2);
    AtomicInteger consumerGeneration = new AtomicInteger(1);
    List<Integer> refused = new ArrayList<>();
    MockProducer<byte[], byte[]> checking =
        new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
          @Override
          public synchronized void sendOffsetsToTransaction(
              Map<org.apache.kafka.common.TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
            if (group.generationId() != brokerGeneration.get()) {
              refused.add(group.generationId());
              throw new CommitFailedException("Specified group generation id is not valid.");
            }
            super.sendOffsetsToTransaction(offsets, group);
          }
        };
    KafkaProducer<byte[], byte[]> outputs = transactional(checking);
    ExactlyOnceDelivery replaying = onLoop(() -> new ExactlyOnceDelivery(vertx, outputs, () ->
        new ConsumerGroupMetadata("gapstream", consumerGeneration.get(), "member-1", Optional.empty()),
        resent::incrementAndGet));
    for (String output : List.of("a", "b", "c")) {
      sendOutput(replaying, outputs, output);
    }

    Future<Void> commit = commitFrames(replaying, 3);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !refused.isEmpty());
    TimeUnit.MILLISECONDS.sleep(100);
    assertThat(commit.isComplete()).as("waiting for the consumer's next generation").isFalse();
    assertThat(checking.transactionAborted()).isTrue();
    assertThat(durable()).isEmpty();

    consumerGeneration.set(2); // the consumer's rebalance ends
    await(commit);
    assertThat(refused).containsExactly(1);
    assertThat(checking.transactionCommitted()).isTrue();
    assertThat(checking.history()).extracting(r -> new String(r.value(), UTF_8)).containsExactly("a", "b", "c");
    assertThat(checking.consumerGroupOffsetsHistory()).containsExactly(Map.of("gapstream",
        Map.of(new org.apache.kafka.common.TopicPartition("frames", 0), new OffsetAndMetadata(3, ""))));
    assertThat(durable()).containsExactly("a", "b", "c");
    assertThat(resent).as("counted for operators").hasValue(1);
  }

  /**
   * Refused, then the consumer is back under a new member id: the group had put this replica out,
   * and another may have published the transaction's partitions meanwhile. Nothing is sent again;
   * the commit fails (the pipeline fails, and restarts from the committed offsets).
   */
  @Test
  @SuppressWarnings("removal") // a consumer's group metadata, made here as the consumer would
  void aTransactionRefusedForAMemberPutOutOfTheGroupIsNotSentAgain() throws Exception {
    AtomicReference<ConsumerGroupMetadata> consumer =
        new AtomicReference<>(new ConsumerGroupMetadata("gapstream", 1, "member-1", Optional.empty()));
    MockProducer<byte[], byte[]> refusing = refusingOffsets("The coordinator is not aware of this member.");
    KafkaProducer<byte[], byte[]> outputs = transactional(refusing);
    ExactlyOnceDelivery delivering = onLoop(() -> new ExactlyOnceDelivery(vertx, outputs, consumer::get, resent::incrementAndGet));
    sendOutput(delivering, outputs, "a");

    Future<Void> commit = commitFrames(delivering, 1);
    TimeUnit.MILLISECONDS.sleep(100);
    consumer.set(new ConsumerGroupMetadata("gapstream", 3, "member-2", Optional.empty())); // joined again
    assertThatThrownBy(() -> await(commit)).hasRootCauseInstanceOf(CommitFailedException.class);
    assertThat(refusing.transactionAborted()).isTrue();
    assertThat(refusing.history()).as("committed: nothing").isEmpty();
    assertThat(refusing.uncommittedRecords()).as("sent again: nothing").isEmpty();
    assertThat(resent).hasValue(0);
  }

  /**
   * Refused for an old generation, with more outputs than the producer keeps to send them again:
   * nothing is sent again, and the commit fails at once, naming the setting that bounds it.
   */
  @Test
  @SuppressWarnings("removal") // a consumer's group metadata, made here as the consumer would
  void aTransactionRefusedWithMoreOutputsThanAreKeptIsNotSentAgain() throws Exception {
    MockProducer<byte[], byte[]> refusing = refusingOffsets("Specified group generation id is not valid.");
    KafkaProducer<byte[], byte[]> outputs = transactional(refusing, 3);
    ExactlyOnceDelivery delivering = onLoop(() -> new ExactlyOnceDelivery(vertx, outputs, () ->
        new ConsumerGroupMetadata("gapstream", 1, "member-1", Optional.empty()), resent::incrementAndGet));
    for (String output : List.of("a", "bb", "c")) { // 4 bytes
      sendOutput(delivering, outputs, output);
    }

    assertThatThrownBy(() -> await(commitFrames(delivering, 3)))
        .hasMessageContaining("more than the 3 bytes kept to send them again (the producer's buffer.memory)")
        .hasRootCauseInstanceOf(CommitFailedException.class);
    assertThat(refusing.transactionAborted()).isTrue();
    assertThat(refusing.history()).as("committed: nothing").isEmpty();
    assertThat(refusing.uncommittedRecords()).as("sent again: nothing").isEmpty();
    assertThat(durable()).isEmpty();
    assertThat(resent).hasValue(0);
  }

  /** A producer whose broker refuses every transaction's offsets, for {@code why}. */
  private static MockProducer<byte[], byte[]> refusingOffsets(String why) {
    return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
      @Override
      public synchronized void sendOffsetsToTransaction(
          Map<org.apache.kafka.common.TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
        throw new CommitFailedException(why);
      }
    };
  }

  /** {@code producer}, ready for transactions, recorded and under Vert.x, as the pipeline has it. */
  private KafkaProducer<byte[], byte[]> transactional(MockProducer<byte[], byte[]> producer) {
    return transactional(producer, BUFFER_MEMORY);
  }

  private KafkaProducer<byte[], byte[]> transactional(MockProducer<byte[], byte[]> producer, long keptBytes) {
    producer.initTransactions();
    return KafkaProducer.create(vertx, new RecordingProducer(producer, keptBytes));
  }

  /** Sends {@code output} to the predictions topic through {@code through}, and waits for its acknowledgement. */
  private void sendOutput(ExactlyOnceDelivery through, KafkaProducer<byte[], byte[]> outputs, String output)
      throws Exception {
    await(onLoop(() -> through
        .send(() -> outputs.send(KafkaProducerRecord.create("predictions", output.getBytes(UTF_8))))
        .onSuccess(meta -> through.whenDurable(() -> durable.add(output)))
        .<Void>mapEmpty()));
  }

  /** Commits partition 0 of the frames topic up to {@code offset} through {@code through}. */
  private Future<Void> commitFrames(ExactlyOnceDelivery through, long offset) throws Exception {
    return onLoop(() -> through.commit(
        () -> Map.of(new TopicPartition("frames", 0), new io.vertx.kafka.client.consumer.OffsetAndMetadata(offset, ""))));
  }

  /** Sends through the delivery; once acknowledged, the output's name goes to {@code whenDurable}. */
  private Promise<RecordMetadata> send(String output) throws Exception {
    Promise<RecordMetadata> ack = Promise.promise();
    onLoop(() -> delivery
        .send(ack::future)
        .onSuccess(meta -> delivery.whenDurable(() -> durable.add(output))));
    return ack;
  }

  private void acknowledge(Promise<RecordMetadata> ack) throws Exception {
    onLoop(() -> ack.tryComplete(new RecordMetadata(0, 0, 0, "frames.dlq")));
  }

  private List<String> durable() throws Exception {
    return onLoop(() -> List.copyOf(durable));
  }

  private static void await(Future<Void> future) throws Exception {
    future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private <T> T onLoop(Callable<T> action) throws Exception {
    return OnContext.call(loop, action);
  }
}
