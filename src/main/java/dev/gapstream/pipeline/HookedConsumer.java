package dev.gapstream.pipeline;

import java.util.Collection;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer that runs a hook inside Kafka's rebalance, on the polling thread, before the listener
 * it was subscribed with. Vert.x's listener only hands the event to the event loop, where it runs
 * after Kafka has moved the partitions on; the hook can make the rebalance wait (as a plain
 * consumer's {@code commitSync} in {@code onPartitionsRevoked} would).
 */
final class HookedConsumer extends KafkaConsumer<byte[], byte[]> {

  private final ConsumerRebalanceListener hook;

  HookedConsumer(Map<String, Object> config, ConsumerRebalanceListener hook) {
    super(config);
    this.hook = hook;
  }

  @Override
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    super.subscribe(topics, new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        hook.onPartitionsRevoked(partitions);
        listener.onPartitionsRevoked(partitions);
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        hook.onPartitionsAssigned(partitions);
        listener.onPartitionsAssigned(partitions);
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> partitions) {
        hook.onPartitionsLost(partitions);
        listener.onPartitionsLost(partitions);
      }
    });
  }
}
