package dev.gapstream.testing;

import dev.gapstream.kafka.EmbeddedKafka;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * Brokers and broker-side facts for the robustness tests: a broker with gapstream's topics,
 * committed and end offsets, group membership. Committed offsets come from the admin API (the
 * Vert.x consumer's {@code committed()} hangs on Kafka 4).
 */
public final class KafkaState {

  private KafkaState() {}

  /**
   * A broker (temporary data) with {@code frames} over {@code partitions}, {@code predictions}, {@code
   * frames.dlq}. Groups of the consumer protocol (KIP-848) heartbeat every second, as the tests'
   * classic ones do (the broker's default, 5 s, is how long each step of their rebalances can wait).
   */
  public static EmbeddedKafka brokerWithTopics(int partitions) {
    EmbeddedKafka broker = EmbeddedKafka.builder()
        .brokerProperty("group.consumer.min.heartbeat.interval.ms", "1000")
        .brokerProperty("group.consumer.heartbeat.interval.ms", "1000")
        .start();
    createTopics(broker, partitions);
    return broker;
  }

  public static void createTopics(EmbeddedKafka broker, int partitions) {
    broker.createTopic("frames", partitions);
    broker.createTopic("predictions", partitions);
    broker.createTopic("frames.dlq", 1);
  }

  /** Sets a topic's {@code max.message.bytes}: the largest record batch it takes. */
  public static void setMaxMessageBytes(Admin admin, String topic, int bytes) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    AlterConfigOp op =
        new AlterConfigOp(new ConfigEntry("max.message.bytes", String.valueOf(bytes)), AlterConfigOp.OpType.SET);
    admin.incrementalAlterConfigs(Map.of(resource, List.of(op))).all().get();
  }

  /** The end offset of every partition of a topic. */
  public static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> latest =
        admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
            .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
    return admin.listOffsets(latest).all().get().entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  /** The group's committed offsets on {@code topic}. */
  public static Map<TopicPartition, Long> committed(Admin admin, String group, String topic)
      throws Exception {
    return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
        .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  /** The sum of a map's offsets. */
  public static long sum(Map<TopicPartition, Long> offsets) {
    return offsets.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Members the group has now: 0 once every consumer left or was expired, and before the first
   * joined (Kafka 4 answers a describe of a group it does not know yet with GroupIdNotFound, which
   * failed a wait for the first member that polled before the join).
   */
  public static int members(Admin admin, String group) throws Exception {
    try {
      return admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().size();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return 0;
      }
      throw e;
    }
  }
}
