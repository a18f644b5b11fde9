package dev.gapstream.publish;

import io.vertx.core.Future;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Send, then commit the offsets of records whose outputs were acknowledged. A crash between the
 * two publishes some predictions again on restart; none is lost.
 */
public final class AtLeastOnceDelivery implements Delivery {

  private final KafkaConsumer<byte[], byte[]> consumer;

  public AtLeastOnceDelivery(KafkaConsumer<byte[], byte[]> consumer) {
    this.consumer = consumer;
  }

  @Override
  public Future<RecordMetadata> send(Supplier<Future<RecordMetadata>> send) {
    return send.get();
  }

  /**
   * At once: the broker's acknowledgement is as durable as an output gets here (with the producer's
   * default {@code acks=all}, every in-sync replica has it).
   */
  @Override
  public void whenDurable(Runnable action) {
    action.run();
  }

  @Override
  public Future<Void> commit(Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets) {
    Map<TopicPartition, OffsetAndMetadata> now = offsets.get();
    return now.isEmpty() ? Future.succeededFuture() : consumer.commit(now).mapEmpty();
  }
}
