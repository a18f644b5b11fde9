package dev.gapstream.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.utils.internals.Exit;
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

  /**
   * A second broker on a directory a broker holds is refused before it touches it, and the first
   * runs on: a second process's controller ran on the first one's metadata log before Kafka's own
   * lock stopped it, and the first then hung in its shutdown for good. Closed, the first lets the
   * directory go.
   */
  @Test
  void aSecondBrokerOnADirectoryInUseIsRefusedAndTheFirstRunsOn(@TempDir Path dir) throws Exception {
    try (EmbeddedKafka first = EmbeddedKafka.start(dir)) {
      assertThatThrownBy(() -> EmbeddedKafka.start(dir))
          .isInstanceOf(KafkaBrokerException.class)
          .hasMessage("the Kafka data directory " + dir + " is in use by another embedded broker (its .gapstream.lock"
              + " is locked): give each process a directory of its own");
      // One that would delete its directory on close leaves the first broker's alone: it deleted
      // it on the refusal, and the first shut down, its log directories gone.
      assertThatThrownBy(() -> EmbeddedKafka.builder().dataDir(dir).deleteOnClose(true).start())
          .isInstanceOf(KafkaBrokerException.class);
      assertThat(dir.resolve("meta.properties")).exists();
      first.createTopic("still", 1);
      KafkaTestClients.produce(first.adminConfig(), "still", List.of("here"));
      assertThat(KafkaTestClients.consume(first.adminConfig(), "still", 1, Duration.ofSeconds(30))).containsExactly("here");
    }
    try (EmbeddedKafka again = EmbeddedKafka.start(dir)) {
      assertThat(again.isRunning()).isTrue();
    }
  }

  /** The lock is the file's, as another process holds it: a lock on it not taken by a broker counts too. */
  @Test
  void aDirectoryWhoseLockFileIsLockedIsRefused(@TempDir Path dir) throws Exception {
    try (FileChannel channel = FileChannel.open(
            dir.resolve(".gapstream.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock held = channel.lock();
      assertThat(held.isValid()).isTrue();
      assertThatThrownBy(() -> EmbeddedKafka.start(dir))
          .isInstanceOf(KafkaBrokerException.class)
          .hasMessageContaining("is in use by another embedded broker");
    }
  }

  /**
   * A fixed port that is taken fails the start at once, a bind failure: five tries, each logging
   * Kafka's own bind failure with its stack traces, could not free it.
   */
  @Test
  void aTakenFixedPortFailsTheStartAtOnce(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> EmbeddedKafka.builder().dataDir(dir).port(port).start())
          .isInstanceOf(KafkaBrokerException.class)
          .hasMessage("embedded Kafka cannot listen on port " + port)
          .satisfies(e -> assertThat(EmbeddedKafka.isBindFailure(e)).isTrue());
    }
    try (EmbeddedKafka free = EmbeddedKafka.start(dir)) {
      assertThat(free.isRunning()).as("the failed start let the directory go").isTrue();
    }
  }

  /**
   * A controller port taken since the stop fails the restart, named, and a later one succeeds once
   * it is free: Kafka treats its controller listener's bind failure as fatal and halted the JVM,
   * exit 1, without its shutdown hooks, where a client port's failure fails the start. Kafka's halt
   * stays this JVM's {@link EmbeddedKafka.StartFaults} throughout (a reset would leave Kafka's test
   * stub, under which no fatal fault stops the process).
   */
  @Test
  void aControllerPortTakenOnRestartFailsTheStartNotTheJvm(@TempDir Path dir) throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      assertThat(haltProcedure()).isInstanceOf(EmbeddedKafka.StartFaults.class);
      kafka.stop();
      try (ServerSocket taken = new ServerSocket()) {
        taken.bind(new InetSocketAddress("127.0.0.1", kafka.controllerPort()));
        assertThatThrownBy(kafka::restart)
            .isInstanceOf(KafkaBrokerException.class)
            .hasMessage("embedded Kafka cannot listen on port " + kafka.controllerPort());
      }
      kafka.restart();
      assertThat(kafka.isRunning()).isTrue();
      kafka.createTopic("after", 1);
      assertThat(haltProcedure()).isInstanceOf(EmbeddedKafka.StartFaults.class);
    }
  }

  /**
   * On a thread starting a broker, Kafka's halt fails the start; elsewhere it halts the JVM, as
   * Kafka's own procedure does.
   */
  @Test
  void kafkasHaltFailsAStartAndHaltsTheJvmElsewhere() throws Exception {
    List<Integer> halted = new java.util.concurrent.CopyOnWriteArrayList<>();
    EmbeddedKafka.StartFaults faults = new EmbeddedKafka.StartFaults(halted::add);
    EmbeddedKafka.StartFaults.STARTING.set(true);
    try {
      assertThatThrownBy(() -> faults.execute(1, null))
          .isInstanceOf(EmbeddedKafka.FatalStartFault.class)
          .hasMessageStartingWith("Kafka stopped on a fatal fault while starting");
    } finally {
      EmbeddedKafka.StartFaults.STARTING.remove();
    }
    assertThat(halted).isEmpty();
    faults.execute(1, "log dir failed");
    Thread other = new Thread(() -> faults.execute(2, null));
    other.start();
    other.join();
    assertThat(halted).containsExactly(1, 2);
  }

  /** Kafka's halt procedure now (its field: Kafka has no getter). */
  private static Object haltProcedure() throws ReflectiveOperationException {
    Field field = Exit.class.getDeclaredField("haltProcedure");
    field.setAccessible(true);
    return field.get(null);
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
