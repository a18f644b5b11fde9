package dev.gapstream.publish;

import io.vertx.core.Future;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How outputs and consumed offsets reach Kafka: {@link AtLeastOnceDelivery} sends, then commits
 * offsets through the consumer; {@link ExactlyOnceDelivery} sends inside Kafka transactions that
 * also carry the offsets. Called on the pipeline's event loop only.
 */
public interface Delivery {

  /** Runs a send, possibly later (while a transaction commits, sends wait for the next one). */
  Future<RecordMetadata> send(Supplier<Future<RecordMetadata>> send);

  /**
   * Commits consumed offsets (the next offset to read, per partition). The supplier is asked when
   * the offsets are about to be written: by then every output of the records below them must have
   * been acknowledged. An empty map commits nothing.
   */
  Future<Void> commit(Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets);

  /**
   * Runs {@code action} once the outputs acknowledged so far are durable, or never if they will not
   * be: for what must count an output once, when it is there to stay, such as {@code
   * gapstream_frames_rejected_total}. Call it where a send's acknowledgement is handled.
   */
  void whenDurable(Runnable action);

  /**
   * The pipeline has failed and will be restarted from the committed offsets: nothing sent from now
   * on may be committed. Completes once that holds.
   */
  default Future<Void> abandon() {
    return Future.succeededFuture();
  }

  /** Vert.x's offsets as the Kafka client's own, for calls made on the client itself. */
  static Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> toNative(
      Map<TopicPartition, OffsetAndMetadata> offsets) {
    Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> out =
        new HashMap<>();
    offsets.forEach((tp, o) -> out.put(
        new org.apache.kafka.common.TopicPartition(tp.getTopic(), tp.getPartition()),
        new org.apache.kafka.clients.consumer.OffsetAndMetadata(o.getOffset(), o.getMetadata())));
    return out;
  }
}
