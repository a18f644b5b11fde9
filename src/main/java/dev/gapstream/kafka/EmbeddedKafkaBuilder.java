package dev.gapstream.kafka;

import dev.gapstream.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options for an {@link EmbeddedKafka}. Not thread safe; use it from one thread, then call {@link
 * #start()}. Ports left at 0 are chosen free at start and then kept for restarts.
 */
public final class EmbeddedKafkaBuilder {
  Path dataDir;
  boolean deleteOnClose;
  int port;
  int controllerPort;
  int saslPort;
  final Map<String, String> saslUsers = new LinkedHashMap<>();
  final Map<String, String> brokerProps = new LinkedHashMap<>();

  EmbeddedKafkaBuilder() {}

  /**
   * Where the broker keeps its log. An existing formatted directory is reused as is. When never
   * set, a temporary directory is created and deleted again on close.
   */
  public EmbeddedKafkaBuilder dataDir(Path dir) {
    this.dataDir = Objects.requireNonNull(dir, "dir");
    return this;
  }

  /** Whether {@link EmbeddedKafka#close()} deletes the data directory (default: only for temp). */
  public EmbeddedKafkaBuilder deleteOnClose(boolean delete) {
    this.deleteOnClose = delete;
    return this;
  }

  /** Fixed PLAINTEXT client port (1..65535), or 0 for a free one. */
  public EmbeddedKafkaBuilder port(int port) {
    this.port = checkPort(port);
    return this;
  }

  /** Fixed KRaft controller port, or 0 for a free one. */
  public EmbeddedKafkaBuilder controllerPort(int port) {
    this.controllerPort = checkPort(port);
    return this;
  }

  /** Fixed SASL_PLAINTEXT port, or 0 for a free one; used only when a SASL user is added. */
  public EmbeddedKafkaBuilder saslPort(int port) {
    this.saslPort = checkPort(port);
    return this;
  }

  /**
   * Adds a SASL_PLAINTEXT listener (mechanism PLAIN) accepting these username to password pairs, in
   * addition to the PLAINTEXT listener.
   */
  public EmbeddedKafkaBuilder saslUsers(Map<String, String> users) {
    users.forEach(
        (user, password) ->
            saslUsers.put(Objects.requireNonNull(user), Objects.requireNonNull(password)));
    return this;
  }

  /** Any broker property (e.g. {@code auto.create.topics.enable}); wins over our defaults. */
  public EmbeddedKafkaBuilder brokerProperty(String key, String value) {
    brokerProps.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
    return this;
  }

  /**
   * Formats the directory if needed and starts the broker, retrying on a port bind race.
   *
   * @throws KafkaBrokerException if it cannot start
   */
  public EmbeddedKafka start() {
    if (dataDir == null) {
      try {
        dataDir = Files.createTempDirectory("gapstream-kafka-");
      } catch (IOException e) {
        // A broker that cannot be started, as the README's exit status 2 says: name where, and why.
        throw new KafkaBrokerException("cannot create a temporary Kafka directory in "
            + System.getProperty("java.io.tmpdir") + ": " + FileErrors.describe(e)
            + " (set kafka.embedded.dir, or -Djava.io.tmpdir in GAPSTREAM_JAVA_OPTS)", e);
      }
      deleteOnClose = true;
    }
    return new EmbeddedKafka(this).startFirst();
  }

  private static int checkPort(int port) {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range [0, 65535]: " + port);
    }
    return port;
  }
}
