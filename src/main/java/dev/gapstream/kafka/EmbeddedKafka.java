package dev.gapstream.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Exit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apache Kafka's own KRaft broker, run in this JVM: one node that is both broker and controller,
 * reached over real sockets on loopback. It is the zero-setup default when no {@code
 * kafka.bootstrap.servers} is configured, and the broker every integration test talks to.
 *
 * <p>Ports are chosen once (free ports when asked for 0) and kept for the life of the object, so
 * {@link #stop()} followed by {@link #restart()} brings the broker back on the same address with
 * the same data. A directory that already holds a formatted log is reused, never reformatted.
 *
 * <p>Thread safety: start, stop, restart and close are synchronized; the accessors may be called
 * from any thread. Kafka's own logging is kept at WARN by the shipped logback configuration.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String HOST = "127.0.0.1";
  private static final int START_ATTEMPTS = 5;
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final boolean deleteOnClose;
  private final Map<String, String> saslUsers;
  private final Map<String, String> extraBrokerProps;
  private final int requestedPort;
  private final int requestedControllerPort;
  private final int requestedSaslPort;
  private boolean pinned;
  private int port;
  private int controllerPort;
  private int saslPort;
  private KafkaRaftServer server;
  private DirectoryLock lock;
  private boolean closed;

  EmbeddedKafka(EmbeddedKafkaBuilder b) {
    this.dataDir = Objects.requireNonNull(b.dataDir, "dataDir");
    this.deleteOnClose = b.deleteOnClose;
    this.saslUsers = Map.copyOf(b.saslUsers);
    this.extraBrokerProps = Map.copyOf(b.brokerProps);
    this.requestedPort = b.port;
    this.requestedControllerPort = b.controllerPort;
    this.requestedSaslPort = b.saslPort;
  }

  /** Starts a broker on free loopback ports with its log in {@code dataDir} (kept on close). */
  public static EmbeddedKafka start(Path dataDir) {
    return builder().dataDir(dataDir).start();
  }

  /** Starts a broker in a fresh temporary directory, deleted again by {@link #close()}. */
  public static EmbeddedKafka startTemp() {
    return builder().start();
  }

  /** Options for ports, data directory, a SASL listener and extra broker properties. */
  public static EmbeddedKafkaBuilder builder() {
    return new EmbeddedKafkaBuilder();
  }

  /** Loopback PLAINTEXT address, e.g. {@code 127.0.0.1:40123}; stable across restarts. */
  public String bootstrapServers() {
    return HOST + ":" + port;
  }

  /** The PLAINTEXT client port. */
  public int port() {
    return port;
  }

  /** The KRaft controller port (not for clients). */
  public int controllerPort() {
    return controllerPort;
  }

  /** The SASL_PLAINTEXT (PLAIN mechanism) address, or {@code null} when no SASL users were set. */
  public String saslBootstrapServers() {
    return saslUsers.isEmpty() ? null : HOST + ":" + saslPort;
  }

  /** Directory holding the broker's log and metadata. */
  public Path dataDir() {
    return dataDir;
  }

  /** Whether the broker is currently up. */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** A fresh mutable config for an {@link Admin} (or any client) on the PLAINTEXT listener. */
  public Map<String, Object> adminConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    return config;
  }

  /** A new admin client on this broker; the caller owns it and must close it. */
  public Admin admin() {
    return Admin.create(adminConfig());
  }

  /**
   * Creates a topic with replication factor 1, or does nothing if it already exists (whatever its
   * partition count). Blocks until the controller has accepted it.
   *
   * @throws KafkaBrokerException if the broker does not answer in time or refuses the topic
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /**
   * Creates a topic with {@code partitions}, or, where it exists with fewer (a kept data directory,
   * its partition count raised since), adds partitions up to that count. Kafka cannot take
   * partitions away: a topic with more keeps them.
   *
   * @return the topic's partition count now
   * @throws KafkaBrokerException if the broker does not answer in time or refuses the change
   */
  public int createOrGrowTopic(String name, int partitions) {
    if (create(name, partitions, Map.of())) {
      // Made now: a describe straight after could still be told it does not exist.
      return partitions;
    }
    try (Admin admin = admin()) {
      int existing = partitionCount(admin, name);
      if (existing >= partitions) {
        return existing;
      }
      admin.createPartitions(Map.of(name, NewPartitions.increaseTo(partitions)))
          .all().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info("Embedded Kafka: topic {} grown from {} to {} partitions", name, existing, partitions);
      return partitions;
    } catch (ExecutionException e) {
      throw new KafkaBrokerException("growing topic " + name + " to " + partitions + " partitions failed", e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaBrokerException("growing topic " + name + " timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("interrupted while growing topic " + name, e);
    }
  }

  /**
   * The topic's partition count, asked again while the broker says it has no such topic: a topic
   * made a moment ago (by another caller, or before a restart) may not be in its metadata yet.
   */
  private static int partitionCount(Admin admin, String name)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      try {
        return admin.describeTopics(List.of(name)).allTopicNames()
            .get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(name).partitions().size();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
          throw e;
        }
        TimeUnit.MILLISECONDS.sleep(100);
      }
    }
  }

  /** As {@link #createTopic(String, int)}, with topic-level configuration ({@code retention.ms}…). */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    create(name, partitions, configs);
  }

  /** Creates the topic; false where it existed already. */
  private boolean create(String name, int partitions, Map<String, String> configs) {
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
          .all()
          .get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new KafkaBrokerException("creating topic " + name + " failed", e.getCause());
      }
      return false;
    } catch (TimeoutException e) {
      throw new KafkaBrokerException("creating topic " + name + " timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("interrupted while creating topic " + name, e);
    }
  }

  /** Stops the broker, keeping its data and ports for {@link #restart()}. Idempotent. */
  public synchronized void stop() {
    if (server == null) {
      return;
    }
    long t0 = System.nanoTime();
    try {
      server.shutdown();
      server.awaitShutdown();
    } finally {
      server = null;
    }
    LOG.info("Embedded Kafka stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
  }

  /** Starts a stopped broker again on the same ports and data directory. */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException("embedded Kafka is closed");
    }
    if (server == null) {
      startWithRetry();
    }
  }

  /** Stops the broker and, for a temporary directory, deletes it. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop();
    } finally {
      releaseLock();
    }
    if (deleteOnClose) {
      DataDirs.deleteRecursively(dataDir);
    }
  }

  /**
   * The first start, holding {@code dataDir} for this broker until {@link #close()}: a second
   * process started on the same directory ran its controller on this one's metadata log before
   * Kafka's own lock stopped it, and this one then hung in its shutdown for good.
   */
  synchronized EmbeddedKafka startFirst() {
    try {
      lock = DirectoryLock.take(dataDir);
      startWithRetry();
      return this;
    } catch (RuntimeException e) {
      // Only a directory this broker held: refused, it deleted the data of the broker holding it.
      boolean held = lock != null;
      releaseLock();
      if (deleteOnClose && held) {
        DataDirs.deleteRecursively(dataDir);
      }
      throw e;
    }
  }

  private void releaseLock() {
    if (lock != null) {
      lock.close();
      lock = null;
    }
  }

  private void startWithRetry() {
    for (int attempt = 1; ; attempt++) {
      assignPorts();
      try {
        startOnce();
        pinned = true;
        return;
      } catch (RuntimeException e) {
        if (!(isBindFailure(e) || e instanceof FatalStartFault) || attempt >= START_ATTEMPTS) {
          throw new KafkaBrokerException("embedded Kafka failed to start in " + dataDir, e);
        }
        LOG.warn("Embedded Kafka could not start (attempt {}), retrying: {}", attempt, e.toString());
        pause(200L * attempt);
      }
    }
  }

  private void startOnce() {
    long t0 = System.nanoTime();
    Map<String, Object> props = BrokerProperties.build(propsInput());
    DataDirs.formatIfNeeded(dataDir, props);
    KafkaRaftServer candidate = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
    StartFaults.install();
    StartFaults.STARTING.set(true);
    try {
      candidate.startup();
      server = candidate;
      BrokerProperties.awaitReady(adminConfig(), READY_TIMEOUT);
    } catch (RuntimeException e) {
      server = null;
      shutdownQuietly(candidate);
      throw e;
    } finally {
      StartFaults.STARTING.remove();
    }
    LOG.info(
        "Embedded Kafka ready on {} in {} ms (data {})",
        bootstrapServers(),
        (System.nanoTime() - t0) / 1_000_000,
        dataDir);
  }

  private BrokerProperties.Input propsInput() {
    return new BrokerProperties.Input(
        HOST, port, controllerPort, saslPort, saslUsers, dataDir, extraBrokerProps);
  }

  /**
   * Ports left at 0 get a free port on each attempt (the probe-then-bind race is why we retry);
   * once a start succeeds every port is pinned so a restart comes back on the same addresses.
   */
  private void assignPorts() {
    // Hold every probe socket until all ports are picked: closed one by one, the kernel may hand
    // the same ephemeral port out twice, and two listeners on one port fail the broker's start.
    // A fixed port that is taken fails the start at once: no retry frees it, and each one logged
    // Kafka's own bind failure, stack traces and all. So does a pinned one on a restart, taken
    // since the stop (a controller port's bind failure is one Kafka would halt the JVM on).
    List<ServerSocket> held = new ArrayList<>();
    try {
      port = pinned ? takenOrFree(port, held) : requestedPort != 0 ? takenOrFree(requestedPort, held) : freePort(held);
      controllerPort =
          pinned
              ? takenOrFree(controllerPort, held)
              : requestedControllerPort != 0 ? takenOrFree(requestedControllerPort, held) : freePort(held);
      if (!saslUsers.isEmpty()) {
        saslPort =
            pinned
                ? takenOrFree(saslPort, held)
                : requestedSaslPort != 0 ? takenOrFree(requestedSaslPort, held) : freePort(held);
      }
    } finally {
      for (ServerSocket socket : held) {
        try {
          socket.close();
        } catch (IOException e) {
          LOG.debug("closing a port probe: {}", e.toString());
        }
      }
    }
  }

  private static int freePort(List<ServerSocket> held) {
    try {
      ServerSocket socket = new ServerSocket();
      held.add(socket);
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /** {@code port}, once bound and held like a free one; a {@link KafkaBrokerException} where it is taken. */
  private static int takenOrFree(int port, List<ServerSocket> held) {
    try {
      ServerSocket socket = new ServerSocket();
      held.add(socket);
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, port));
      return port;
    } catch (IOException e) {
      throw new KafkaBrokerException("embedded Kafka cannot listen on port " + port, e);
    }
  }

  /** Whether {@code e} or a cause of it is a failure to bind the broker's port. */
  public static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return true;
      }
      String msg = t.getMessage();
      if (msg != null
          && (msg.contains("failed to bind") || msg.contains("Address already in use"))) {
        return true;
      }
    }
    return false;
  }

  private static void shutdownQuietly(KafkaRaftServer candidate) {
    try {
      candidate.shutdown();
      candidate.awaitShutdown();
    } catch (RuntimeException suppressed) {
      LOG.debug("Ignoring failure while cleaning up a failed start", suppressed);
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("interrupted while starting embedded Kafka", e);
    }
  }

  /**
   * Kafka's halt, as this JVM's brokers have it. Kafka halts the JVM on a fatal fault, and its
   * controller's listener failing to bind is one: a controller port taken between the probe and
   * the bind ended the whole process, exit 1, without its shutdown hooks, where a client
   * listener's failure is retried. On a thread starting a broker, a halt now fails that start
   * ({@link FatalStartFault}); anywhere else it halts the JVM, as Kafka's own procedure does (a
   * broker whose only log directory failed must not run on, serving nothing). Installed once and
   * left: Kafka's {@code Exit.resetHaltProcedure()} puts in a test stub that only throws.
   */
  static final class StartFaults implements Exit.Procedure {
    /** Whether this thread is starting a broker. */
    static final ThreadLocal<Boolean> STARTING = ThreadLocal.withInitial(() -> false);
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private final IntConsumer halt;

    StartFaults(IntConsumer halt) {
      this.halt = halt;
    }

    static void install() {
      if (INSTALLED.compareAndSet(false, true)) {
        Exit.setHaltProcedure(new StartFaults(status -> Runtime.getRuntime().halt(status)));
      }
    }

    @Override
    public void execute(int status, String message) {
      if (STARTING.get()) {
        throw new FatalStartFault(message);
      }
      halt.accept(status);
    }
  }

  /** A fault on which Kafka would have halted the JVM, raised while this broker started. */
  static final class FatalStartFault extends RuntimeException {
    FatalStartFault(String message) {
      super("Kafka stopped on a fatal fault while starting (logged above: a listener that could not bind, say)"
          + (message == null ? "" : ": " + message));
    }
  }
}
