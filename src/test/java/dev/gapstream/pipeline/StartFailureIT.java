package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.GapstreamException;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.TestPipelines;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that fails part-way (the management port, after the embedded broker and the model; the
 * Kafka clients' settings) says which key and closes what it had started: the broker's port is
 * free again.
 */
class StartFailureIT {

  @Test
  void aFailedStartNamesTheKeyAndClosesTheBrokerItStarted() throws Exception {
    int brokerPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      brokerPort = probe.getLocalPort();
    }
    try (ServerSocket taken = new ServerSocket(0)) {
      Map<String, String> settings = Map.of(
          "kafka.embedded.port", String.valueOf(brokerPort), "http.port", String.valueOf(taken.getLocalPort()));
      assertThatThrownBy(() -> TestPipelines.start(settings))
          .isInstanceOf(GapstreamException.class)
          .hasMessageContaining("http.port=" + taken.getLocalPort() + ": cannot listen");
    }
    try (ServerSocket again = new ServerSocket(brokerPort)) {
      assertThat(again.getLocalPort()).as("the failed start's broker port, bound again").isEqualTo(brokerPort);
    }
  }

  /** The embedded broker's port taken, its directory another broker's or not one: the start names the key. */
  @Test
  void anEmbeddedBrokerThatCannotStartNamesTheKey(@TempDir Path tmp) throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> TestPipelines.start(Map.of("kafka.embedded.port", String.valueOf(port))))
          .isInstanceOf(GapstreamException.class)
          .hasMessageStartingWith("kafka.embedded.port=" + port + ": cannot listen");
    }
    Path held = Files.createDirectory(tmp.resolve("held"));
    try (EmbeddedKafka other = EmbeddedKafka.start(held)) {
      assertThat(other.dataDir()).isEqualTo(held);
      assertThatThrownBy(() -> TestPipelines.start(Map.of("kafka.embedded.dir", held.toString())))
          .isInstanceOf(GapstreamException.class)
          .hasMessage("kafka.embedded.dir=" + held + ": embedded Kafka failed to start: the Kafka data directory "
              + held + " is in use by another embedded broker (its .gapstream.lock is locked): give each process"
              + " a directory of its own");
    }
    Path file = Files.writeString(tmp.resolve("not-a-directory"), "x");
    assertThatThrownBy(() -> TestPipelines.start(Map.of("kafka.embedded.dir", file.toString())))
        .isInstanceOf(GapstreamException.class)
        .hasMessageStartingWith("kafka.embedded.dir=" + file + ": embedded Kafka failed to start");
  }

  @Test
  void aMissingModelFailsTheStartNamingTheKey() {
    assertThatThrownBy(() -> TestPipelines.start(Map.of("inference.model.path", "/nonexistent/m.onnx")))
        .isInstanceOf(GapstreamException.class)
        .hasMessage("inference.model.path=/nonexistent/m.onnx: no such model file");
  }

  /**
   * A file that is no ONNX model is refused before the embedded broker starts for nothing: with the
   * broker's port taken, the start names the model, not the port.
   */
  @Test
  void aFileThatIsNoModelFailsTheStartBeforeTheBroker(@TempDir Path tmp) throws Exception {
    Path notAModel = Files.writeString(tmp.resolve("model.onnx"), "batch:\n  max.size: 8\n");
    try (ServerSocket taken = new ServerSocket(0)) {
      Map<String, String> settings = Map.of(
          "inference.model.path", notAModel.toString(), "kafka.embedded.port", String.valueOf(taken.getLocalPort()));
      assertThatThrownBy(() -> TestPipelines.start(settings))
          .isInstanceOf(GapstreamException.class)
          .hasMessageContaining(notAModel.toString())
          .hasMessageContaining("not an ONNX model");
    }
  }

  /**
   * Exactly-once with a transaction timeout longer than the brokers allow: the start names the key.
   * It failed with "Unexpected error in InitProducerIdResponse", in the client's words.
   */
  @Test
  void aTransactionTimeoutTheBrokersRefuseFailsTheStartNamingTheKey() {
    Map<String, String> settings = Map.of(
        "delivery.guarantee", "exactly-once", "kafka.producer.transaction.timeout.ms", "1000000");
    assertThatThrownBy(() -> TestPipelines.start(settings))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("kafka.producer.transaction.timeout.ms=1000000: longer than the brokers allow (their"
            + " transaction.max.timeout.ms, 15 minutes by default)");
  }

  /**
   * A longest side below the model's minimum is refused before the embedded broker starts: with the
   * broker's port taken, the start names the key, not the port. It was refused after the broker.
   */
  @Test
  void aResizeTheModelCannotTakeFailsTheStartBeforeTheBroker() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Map<String, String> settings = Map.of(
          "ingest.resize.max.side", "16", "kafka.embedded.port", String.valueOf(taken.getLocalPort()));
      assertThatThrownBy(() -> TestPipelines.start(settings))
          .isInstanceOf(GapstreamException.class)
          .hasMessageContaining("ingest.resize.max.side: 16 is below the model's minimum input 32x32");
    }
  }

  /**
   * Settings the Kafka client refuses together (the consumer protocol sets the session on the
   * broker) fail the start, saying where they came from: the client names only its own key. Those
   * are refused as the configuration loads; a value a config provider gives the client is refused
   * once the client reads it, when the pipeline makes it, with the same prefix.
   */
  @Test
  void kafkaClientSettingsTheClientRefusesFailTheStartNamingTheirPrefix(@TempDir Path tmp) throws Exception {
    Map<String, String> settings = Map.of(
        "kafka.consumer.group.protocol", "consumer", "kafka.consumer.session.timeout.ms", "6000");
    assertThatThrownBy(() -> TestPipelines.start(settings))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("kafka.consumer.*: session.timeout.ms cannot be set when group.protocol=CONSUMER");
    assertThatThrownBy(() -> TestPipelines.start(provided(tmp, "kafka.consumer.", "max.poll.interval.ms", "soon")))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("kafka.consumer.*: Invalid value soon for configuration max.poll.interval.ms");
    // Refused by the producer as it is made, inside its "Failed to construct kafka producer": named too.
    assertThatThrownBy(() -> TestPipelines.start(provided(tmp, "kafka.producer.", "delivery.timeout.ms", "1000")))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("kafka.producer.*: delivery.timeout.ms should be equal to or larger than linger.ms"
            + " + request.timeout.ms");
  }

  /** {@code prefix + name} given by a file config provider, which reads {@code value} from a file in {@code dir}. */
  private static Map<String, String> provided(Path dir, String prefix, String name, String value) throws Exception {
    Path secrets = Files.writeString(dir.resolve(prefix + "properties"), "value=" + value + "\n");
    return Map.of(
        prefix + "config.providers", "file",
        prefix + "config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider",
        prefix + name, "${file:" + secrets + ":value}");
  }
}
