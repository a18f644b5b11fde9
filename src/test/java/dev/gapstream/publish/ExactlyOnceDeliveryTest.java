package dev.gapstream.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.testing.OnContext;
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
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link ExactlyOnceDelivery#whenDurable} waits for: an output acknowledged inside a
 * transaction is not there to stay until the transaction commits. Counted at its acknowledgement, a
 * dead letter whose transaction was then aborted was counted again when the restarted pipeline sent
 * it once more. Against Kafka's {@link MockProducer}; the sends are promises this test completes.
 */
class ExactlyOnceDeliveryTest {

  private Vertx vertx;
  private Context loop;
  private MockProducer<byte[], byte[]> producer;
  private ExactlyOnceDelivery delivery;
  /** What ran through {@code whenDurable}, in order. */
  private final List<String> durable = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    loop = vertx.getOrCreateContext();
    producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    // No offsets are committed here, so the group membership is never asked for.
    delivery = onLoop(() -> new ExactlyOnceDelivery(vertx, KafkaProducer.create(vertx, producer), () -> null));
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
