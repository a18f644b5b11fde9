package dev.gapstream.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping and restarting on the same port and directory keeps topics and records. */
class EmbeddedKafkaRestartIT {

  @Test
  void restartOnTheSamePortKeepsTheData(@TempDir Path dir) throws Exception {
    long t0 = System.nanoTime();
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      System.out.printf("cold start %d ms%n", (System.nanoTime() - t0) / 1_000_000);
      String bootstrap = kafka.bootstrapServers();
      assertThat(kafka.saslBootstrapServers()).isNull();
      kafka.createTopic("durable", 3);
      KafkaTestClients.produce(kafka.adminConfig(), "durable", List.of("1", "2", "3"));

      kafka.stop();
      assertThat(kafka.isRunning()).isFalse();
      assertThat(accepts(kafka.port())).isFalse();
      long t1 = System.nanoTime();
      kafka.restart();
      System.out.printf("restart %d ms%n", (System.nanoTime() - t1) / 1_000_000);

      assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
      KafkaTestClients.produce(kafka.adminConfig(), "durable", List.of("4"));
      assertThat(
              KafkaTestClients.consume(kafka.adminConfig(), "durable", 4, Duration.ofSeconds(30)))
          .containsExactlyInAnyOrder("1", "2", "3", "4");
    }
    assertThat(dir).isDirectory(); // a caller's directory is never deleted
  }

  @Test
  void aNewInstanceOnTheSameDirectoryAndPortsReusesTheLog(@TempDir Path dir) throws Exception {
    int port;
    int controllerPort;
    try (EmbeddedKafka first = EmbeddedKafka.start(dir)) {
      port = first.port();
      controllerPort = first.controllerPort();
      first.createTopic("kept", 1);
      KafkaTestClients.produce(first.adminConfig(), "kept", List.of("old"));
    }
    try (EmbeddedKafka second =
        EmbeddedKafka.builder().dataDir(dir).port(port).controllerPort(controllerPort).start()) {
      assertThat(second.port()).isEqualTo(port);
      assertThat(KafkaTestClients.consume(second.adminConfig(), "kept", 1, Duration.ofSeconds(30)))
          .containsExactly("old");
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
