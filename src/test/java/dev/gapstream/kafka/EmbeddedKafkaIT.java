package dev.gapstream.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One broker with PLAINTEXT and SASL_PLAINTEXT listeners, driven by plain kafka-clients. */
class EmbeddedKafkaIT {
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    long t0 = System.nanoTime();
    kafka = EmbeddedKafka.builder().saslUsers(Map.of("alice", "s3cret \"quoted\"")).start();
    System.out.printf("broker started in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
      assertThat(kafka.dataDir()).doesNotExist();
    }
  }

  /**
   * Topics made new report their count at once (a describe straight after the create was told, now
   * and then, that the topic did not exist: a CI run failed so); one that exists grows, and keeps
   * more than it is asked for.
   */
  @Test
  void createOrGrowMakesGrowsAndKeeps() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(kafka.createOrGrowTopic("fresh-" + i, 2)).isEqualTo(2);
    }
    assertThat(kafka.createOrGrowTopic("fresh-0", 3)).isEqualTo(3);
    assertThat(kafka.createOrGrowTopic("fresh-0", 1)).as("Kafka cannot take partitions away").isEqualTo(3);
    try (var admin = kafka.admin()) {
      assertThat(admin.describeTopics(List.of("fresh-0")).allTopicNames().get().get("fresh-0").partitions()).hasSize(3);
    }
  }

  @Test
  void producesAndConsumesOverLoopback() throws Exception {
    kafka.createTopic("roundtrip", 2);
    kafka.createTopic("roundtrip", 2); // idempotent
    List<String> values = List.of("a", "b", "c", "d", "e");

    KafkaTestClients.produce(kafka.adminConfig(), "roundtrip", values);
    List<String> got =
        KafkaTestClients.consume(kafka.adminConfig(), "roundtrip", 5, Duration.ofSeconds(30));

    assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
    assertThat(got).containsExactlyInAnyOrderElementsOf(values);
    try (Admin admin = kafka.admin()) {
      assertThat(
              admin
                  .describeTopics(Set.of("roundtrip"))
                  .allTopicNames()
                  .get()
                  .get("roundtrip")
                  .partitions())
          .hasSize(2);
    }
  }

  @Test
  void saslListenerAcceptsTheRightPassword() throws Exception {
    kafka.createTopic("secure", 1);
    Map<String, Object> client =
        KafkaTestClients.sasl(kafka.saslBootstrapServers(), "alice", "s3cret \"quoted\"");

    KafkaTestClients.produce(client, "secure", List.of("x", "y"));

    assertThat(KafkaTestClients.consume(client, "secure", 2, Duration.ofSeconds(30)))
        .containsExactlyInAnyOrder("x", "y");
  }

  @Test
  void saslListenerRejectsAWrongPasswordWithAnAuthenticationError() {
    Map<String, Object> client =
        KafkaTestClients.sasl(kafka.saslBootstrapServers(), "alice", "wrong");

    try (Admin admin = Admin.create(client)) {
      assertThatThrownBy(() -> admin.describeCluster().nodes().get(20, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(SaslAuthenticationException.class);
    }
  }
}
