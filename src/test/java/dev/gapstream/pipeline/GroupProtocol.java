package dev.gapstream.pipeline;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How the group shares its partitions out. Kafka's classic protocol with its default assignor
 * (eager: a rebalance revokes every partition and assigns most straight back) or with the
 * cooperative-sticky one (only the partitions that move are revoked), both with a short session;
 * and the consumer protocol of KIP-848 (the broker assigns, members reconcile one heartbeat at a
 * time; the session and heartbeat are the broker's to set).
 */
enum GroupProtocol {
  /** Classic, the default assignor. */
  EAGER(Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000")),
  /** Classic, cooperative-sticky. */
  COOPERATIVE(Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000",
      "partition.assignment.strategy", CooperativeStickyAssignor.class.getName())),
  /** KIP-848. */
  CONSUMER(Map.of("group.protocol", "consumer"));

  /** The consumer settings that choose it (without the {@code kafka.consumer.} prefix). */
  final Map<String, String> client;

  GroupProtocol(Map<String, String> client) {
    this.client = client;
  }

  /**
   * A plain member of {@code group} in this protocol, as the tests drive one: it commits only what
   * they commit, and reads from the start where nothing is committed.
   */
  Map<String, Object> plainConsumer(String bootstrapServers, String group) {
    Map<String, Object> config = new HashMap<>(client);
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return config;
  }

  /** The same as gapstream settings. */
  Map<String, String> settings() {
    Map<String, String> settings = new HashMap<>();
    client.forEach((key, value) -> settings.put("kafka.consumer." + key, value));
    return settings;
  }
}
