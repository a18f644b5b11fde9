package dev.gapstream.pipeline;

import dev.gapstream.GapstreamException;
import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.config.ConfigException;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.DeliveryGuarantee;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.config.KafkaClientValues;
import dev.gapstream.http.Health;
import dev.gapstream.http.ManagementServer;
import dev.gapstream.ingest.DecodeLimits;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.JpegLibrary;
import dev.gapstream.ingest.PixelBuffers;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.kafka.KafkaBrokerException;
import dev.gapstream.live.LiveView;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.metrics.PipelineMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running gapstream: the embedded broker when no bootstrap servers are configured, the model,
 * the metrics registry, the management server (with the live view unless {@code http.live.enabled}
 * is false) and the pipeline verticle. Started and stopped from a plain (non-Vert.x) thread; {@link
 * #close()} drains in order: stop polling, finish batches, publish, commit, leave the group, close
 * the session.
 */
public final class GapstreamService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GapstreamService.class);
  /** How long each batch size runs in each of calibration's two rounds. */
  private static final Duration CALIBRATION_PER_SIZE = Duration.ofMillis(150);
  /** Kafka's defaults for {@code max.request.size} and {@code buffer.memory}. */
  private static final long DEFAULT_MAX_REQUEST_BYTES = 1 << 20;
  private static final long DEFAULT_BUFFER_MEMORY_BYTES = 32L << 20;
  /** Kafka's default {@code socket.request.max.bytes}, the most one request to a broker may hold. */
  private static final int DEFAULT_SOCKET_REQUEST_MAX_BYTES = 100 << 20;
  /** Room in a dead letter's request for the frame's key and headers, the reason and the error. */
  private static final long DEAD_LETTER_HEADROOM_BYTES = KafkaClientValues.MIN_REQUEST_BYTES;

  private final GapstreamConfig config;
  private final EmbeddedKafka broker;
  private final InferenceEngine engine;
  private final GapstreamMetrics gapstreamMetrics;
  private final PipelineMetrics metrics;
  private final Health health;
  private final Vertx vertx;
  private final LiveView liveView;
  private final ManagementServer server;
  private final String deploymentId;
  private final String bootstrapServers;
  private final BatchPolicy batchPolicy;
  private boolean closed;
  /**
   * Runs when the JVM exits (Ctrl-C, SIGTERM) before {@link #close}: closes the service, or, while
   * it is still starting, makes the start give up and close what it started: the embedded
   * broker's temporary data directory was left behind by a Ctrl-C during start-up.
   */
  private final Thread exitHook = new Thread(this::onExit, "gapstream-exit");
  private final CountDownLatch constructed = new CountDownLatch(1);
  private volatile boolean exiting;
  private volatile boolean running;

  private GapstreamService(GapstreamConfig config, Options options) throws Exception {
    // What has started, latest first: a failed start closes it before rethrowing.
    Deque<AutoCloseable> started = new ArrayDeque<>();
    Runtime.getRuntime().addShutdownHook(exitHook);
    try {
      this.config = config;
      // In the message, not an argument: its line breaks are kept, an argument's are escaped.
      LOG.info("Effective configuration:\n" + config.redactedView());
      // The model file and its descriptor, the decoder's limits against the model and the provider
      // read before a broker starts for nothing.
      Path modelFile = config.inference().existingModelFile();
      ModelSpec spec = ModelSpec.load(modelFile);
      FrameDecoder decoder = decoder(config, spec);
      InferenceEngine.checkProvider(engineOptions(config).provider());
      broker = config.kafka().useEmbedded() ? startEmbeddedBroker(config) : null;
      if (broker != null) {
        started.push(broker);
      }
      giveUpIfExiting();
      bootstrapServers = broker != null ? broker.bootstrapServers() : config.kafka().bootstrapServers();
      int maxSide = decoder.limits().maxSide();
      if (maxSide > 0) {
        LOG.info(
            "Frames longer than {} px are scaled down to it ({}{})",
            maxSide,
            ConfigKeys.INGEST_RESIZE_MAX_SIDE,
            config.ingest().resizeMaxSide() < 0 ? ": the model's maxSide" : "");
      }
      batchCappedByFramesInFlight(config).ifPresent(LOG::warn);
      engine = InferenceEngine.open(modelFile, spec, engineOptions(config));
      started.push(engine);
      giveUpIfExiting();
      BatchPolicy configured = modelBound(config.batch().policy(), engine);
      Optional<BatchCalibration.Result> calibration = warmUp(engine, spec, config, configured);
      giveUpIfExiting();
      batchPolicy = calibration.map(c -> c.apply(configured)).orElse(configured);
      String jpeg = JpegLibrary.load();
      JpegLibrary.warning(jpeg).ifPresentOrElse(LOG::warn, () -> LOG.info("JPEG frames decode with {}", jpeg));
      gapstreamMetrics = GapstreamMetrics.create(Map.of("model", spec.name(), "version", spec.version()));
      started.push(gapstreamMetrics);
      metrics = gapstreamMetrics.pipeline();
      metrics.modelInfo(spec.name(), spec.version(), engine.head().id());
      metrics.batchLimits(batchPolicy.maxSize(), batchPolicy.maxPixels(), batchPolicy.runPixels());
      calibration.ifPresent(c -> metrics.batchCalibration(c.ratesByBatch(), c.chosen()));
      health = Health.requiring("model", "partitions");
      health.set("model", true);
      health.set(OutboxReadiness.CHECK, true);
      gapstreamMetrics.pipeline().setReadySupplier(health::isReady);
      // Vert.x's own meters in the same registry: worker pools (queue delay, usage, in use for
      // gapstream-decode and gapstream-inference) and the management server.
      vertx =
          Vertx.builder()
              .with(
                  options
                      .vertxOptions()
                      .setMetricsOptions(
                          new MicrometerMetricsOptions()
                              .setEnabled(true)
                              .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)))
              .withMetrics(new MicrometerMetricsFactory(gapstreamMetrics.registry()))
              .build();
      started.push(() -> await(vertx.close())); // and with it the management server and the pipeline
      liveView =
          config.liveViewEnabled()
              ? new LiveView(gapstreamMetrics.registry(), spec.name(), spec.version())
              : null;
      if (liveView != null) {
        started.push(liveView::close); // its sampling and rendering threads, should the server not start
      }
      List<Consumer<Router>> routes = liveView == null ? List.of() : List.of(liveView::install);
      server =
          await(ManagementServer.start(vertx, config.httpPort(), gapstreamMetrics.registry(), health, routes));
      PredictionTap tap = liveView == null ? options.tap() : options.tap().andThen(liveView);
      PipelineVerticle pipeline =
          new PipelineVerticle(
              settings(config, bootstrapServers, batchPolicy),
              decoder,
              new ModelBatchRunner(
                  engine, spec, config.cam(), config.predictions().topK(), batchPolicy, metrics, tap),
              metrics,
              health);
      try {
        deploymentId =
            await(vertx.deployVerticle(pipeline, new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP)));
      } catch (TimeoutException e) {
        throw new TimeoutException("deploying the pipeline, which starts its Kafka clients: " + e.getMessage()
            + " (exactly-once: initTransactions waits for the transaction coordinator)");
      }
      LOG.info(
          "gapstream is running: model {} v{}, Kafka {}, management on port {}",
          spec.name(), spec.version(), bootstrapServers, server.actualPort());
      if (liveView != null) {
        LOG.info("Live view on http://localhost:{}/live", server.actualPort());
      }
      running = true;
    } catch (Exception | Error e) {
      // An Error too: ONNX Runtime's native library failing to load is one, after the broker started.
      if (exiting) { // said here: the JVM halts once the exit hook returns, maybe before it is printed
        LOG.warn("Start-up abandoned as the JVM exits ({}); closing what started", e.toString());
      }
      closeAll(started, e);
      removeExitHook();
      throw e;
    } finally {
      constructed.countDown();
    }
  }

  /** Between the steps of a start: gives up, closing what started, once the JVM is exiting. */
  private void giveUpIfExiting() {
    if (exiting) {
      throw new GapstreamException("start-up abandoned: the JVM is exiting (a signal, or Ctrl-C)");
    }
  }

  private void onExit() {
    exiting = true;
    try {
      // Each step of a start takes seconds at most; the longest, calibration, about ten.
      if (!constructed.await(1, TimeUnit.MINUTES)) {
        LOG.warn("Exiting while gapstream still starts; what it started is left as it is");
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    if (running) {
      close();
    }
  }

  private void removeExitHook() {
    if (!exiting) {
      try {
        Runtime.getRuntime().removeShutdownHook(exitHook);
      } catch (IllegalStateException e) {
        // the JVM began to exit since: the hook runs, and finds the service closed
      }
    }
  }

  private static void closeAll(Deque<AutoCloseable> started, Throwable failure) {
    for (AutoCloseable c : started) {
      try {
        c.close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
  }

  /**
   * Starts everything; on any failure closes what was started and rethrows. The event loop's time
   * limit is {@link Options#DEFAULT}'s, or the system property {@value Options#EVENT_LOOP_WARN_PROPERTY}'s.
   */
  public static GapstreamService start(GapstreamConfig config) {
    return start(config, Options.fromSystemProperties());
  }

  public static GapstreamService start(GapstreamConfig config, Options options) {
    try {
      return new GapstreamService(config, options);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      // A wrapped failure of our own (a start-up future's: "http.port=8081: cannot listen ...") says
      // itself; wrapping it again printed "failed to start: dev.gapstream.GapstreamException: ...".
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        if (t instanceof dev.gapstream.GapstreamException own) {
          throw own;
        }
      }
      throw new dev.gapstream.GapstreamException("gapstream failed to start: " + e.getMessage(), e);
    }
  }

  private static EmbeddedKafka startEmbeddedBroker(GapstreamConfig config) {
    GapstreamConfig.Embedded embedded = config.kafka().embedded();
    // Frames of up to ingest.max.frame.bytes go in, and their dead letters with them come out:
    // the broker takes what the pipeline's producer sends (Kafka's own default is 1 MB).
    String frameSized = frameSizedRequests(config.ingest().maxFrameBytes()).get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    // And its requests, whole: above Kafka's default request limit (100 MiB) a frame's request was
    // dropped at the socket, and the producer, seeing a network error, sent it again for ever.
    String requestSized = String.valueOf(Math.max(DEFAULT_SOCKET_REQUEST_MAX_BYTES, Integer.parseInt(frameSized) + (1 << 20)));
    var builder = EmbeddedKafka.builder().port(embedded.port()).brokerProperty("message.max.bytes", frameSized)
        .brokerProperty("socket.request.max.bytes", requestSized)
        // Only the topics made below: a misspelt topic (`produce -t framez`) is an error, not a new
        // topic that takes frames nothing reads.
        .brokerProperty("auto.create.topics.enable", "false");
    if (embedded.dataDir() != null) {
      builder.dataDir(embedded.dataDir());
    }
    EmbeddedKafka broker;
    try {
      broker = builder.start();
    } catch (KafkaBrokerException e) {
      throw namingTheKey(e, embedded);
    }
    try {
      // In a kept data directory the topics exist: kafka.embedded.partitions raised since was
      // ignored without a word. Raised, they grow; Kafka cannot take partitions away.
      for (String topic : List.of(config.topics().frames(), config.topics().predictions())) {
        int partitions = broker.createOrGrowTopic(topic, embedded.partitions());
        if (partitions > embedded.partitions()) {
          LOG.warn("Embedded Kafka: topic {} keeps its {} partitions in {}, over {}={}: Kafka cannot take"
              + " partitions away (delete the directory to start afresh)",
              topic, partitions, embedded.dataDir(), ConfigKeys.KAFKA_EMBEDDED_PARTITIONS, embedded.partitions());
        }
      }
      broker.createTopic(config.topics().dlq(), 1);
    } catch (RuntimeException e) {
      broker.close(); // not yet among what the start closes should it fail
      throw e;
    }
    LOG.info("Embedded Kafka broker on {}", broker.bootstrapServers());
    return broker;
  }

  /** A failed start of the embedded broker, said as the key that would fix it. */
  private static GapstreamException namingTheKey(KafkaBrokerException e, GapstreamConfig.Embedded embedded) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (EmbeddedKafka.isBindFailure(e)) {
      return new GapstreamException(
          ConfigKeys.KAFKA_EMBEDDED_PORT + "=" + embedded.port() + ": cannot listen: " + root.getMessage(), e);
    }
    if (embedded.dataDir() != null) {
      return new GapstreamException(
          ConfigKeys.KAFKA_EMBEDDED_DIR + "=" + embedded.dataDir() + ": embedded Kafka failed to start: "
              + (root instanceof KafkaBrokerException ? root.getMessage() : root), e);
    }
    return e;
  }

  /**
   * Runs the model before the first frame, so that ONNX Runtime's first runs are not a frame's: at
   * batch sizes 1 and a full run, or with {@code batch.calibrate} at every size {@link BatchCalibration}
   * times, whose result then bounds the batches. Both at the model's nominal input size (its fixed
   * size, else 224×224 or its minimum). Empty when calibration is off.
   */
  private static Optional<BatchCalibration.Result> warmUp(
      InferenceEngine engine, ModelSpec spec, GapstreamConfig config, BatchPolicy configured) {
    long start = System.nanoTime();
    int w = spec.isFixedSize() ? spec.fixedWidth() : Math.max(224, spec.minWidth());
    int h = spec.isFixedSize() ? spec.fixedHeight() : Math.max(224, spec.minHeight());
    if (!config.batch().calibrate() || configured.maxSize() == 1) {
      engine.warmUp(w, h, 1, configured.runSizeFor((long) w * h)); // a full run: batches run no larger
      LOG.info("Model warmed up at {}x{} in {} ms", w, h, (System.nanoTime() - start) / 1_000_000);
      return Optional.empty();
    }
    BatchCalibration.Result calibration =
        BatchCalibration.measure(engine, w, h, configured, config.inference().concurrency(), CALIBRATION_PER_SIZE);
    LOG.info(
        "Model warmed up and batch size calibrated in {} ms: {}",
        (System.nanoTime() - start) / 1_000_000, calibration.describe());
    return Optional.of(calibration);
  }

  /** {@code policy} with batches of one frame where the model's graph takes no more. */
  private static BatchPolicy modelBound(BatchPolicy policy, InferenceEngine engine) {
    if (engine.maxBatch() >= policy.maxSize()) {
      return policy;
    }
    LOG.warn(
        "The model takes {} frame(s) a batch (its input's batch dimension is fixed): {}={} is {} here;"
            + " a model exported with a dynamic batch dimension runs larger batches",
        engine.maxBatch(), ConfigKeys.BATCH_MAX_SIZE, policy.maxSize(), engine.maxBatch());
    return new BatchPolicy(engine.maxBatch(), policy.maxPixels(), policy.maxDelayNanos(), policy.runPixels());
  }

  static PipelineSettings settings(GapstreamConfig config, String bootstrapServers) {
    return settings(config, bootstrapServers, config.batch().policy());
  }

  static PipelineSettings settings(GapstreamConfig config, String bootstrapServers, BatchPolicy batchPolicy) {
    boolean exactlyOnce = config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE;
    Map<String, String> consumer = new HashMap<>();
    consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    consumer.put(ConsumerConfig.GROUP_ID_CONFIG, config.kafka().groupId());
    consumer.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumer.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
    consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumer.putAll(config.kafka().consumer());

    Map<String, String> producer = new HashMap<>();
    producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    producer.putAll(KafkaClientValues.PRODUCER_DEFAULTS);
    // A dead letter carries its frame, up to ingest.max.frame.bytes.
    producer.putAll(frameSizedRequests(config.ingest().maxFrameBytes()));
    producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    producer.putAll(config.kafka().producer());
    if (exactlyOnce) {
      // Without one the producer cannot start transactions; an explicit kafka.producer. setting wins.
      producer.putIfAbsent(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(config));
    }

    return new PipelineSettings(
        consumer,
        producer,
        config.topics().frames(),
        config.topics().predictions(),
        config.topics().dlq(),
        deadLetterPayloadBytes(config.ingest().maxFrameBytes(), producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)),
        batchPolicy,
        config.ingest().maxInFlight(),
        maxInFlightBytes(config, Runtime.getRuntime().maxMemory()),
        Duration.ofMillis(config.ingest().maxFrameAgeMs()),
        config.ingest().decodeThreads(),
        config.inference().concurrency(),
        exactlyOnce,
        Duration.ofMillis(config.commitIntervalMs()),
        Duration.ofMillis(config.shutdownTimeoutMs()));
  }

  /**
   * Producer settings for records that carry a frame of up to {@code maxFrameBytes} with its key and
   * headers (a dead letter, a replayed frame): requests that large (Kafka's default is 1 MiB), and a
   * buffer for two of them.
   */
  public static Map<String, String> frameSizedRequests(int maxFrameBytes) {
    long maxRequest = Math.max(DEFAULT_MAX_REQUEST_BYTES, (long) maxFrameBytes + DEAD_LETTER_HEADROOM_BYTES);
    Map<String, String> producer = new HashMap<>();
    producer.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(Math.min(Integer.MAX_VALUE, maxRequest)));
    if (2 * maxRequest > DEFAULT_BUFFER_MEMORY_BYTES) {
      producer.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(2 * maxRequest));
    }
    return producer;
  }

  /**
   * The largest frame a dead letter carries whole: {@code ingest.max.frame.bytes}, or less where
   * {@code kafka.producer.max.request.size} is set below it (less room for the key and headers).
   */
  static int deadLetterPayloadBytes(int maxFrameBytes, String maxRequestSize) {
    try {
      return deadLetterPayloadBytes(maxFrameBytes, Long.parseLong(maxRequestSize.trim()));
    } catch (NumberFormatException e) {
      return maxFrameBytes; // the producer refuses it at start-up, naming the key
    }
  }

  /**
   * The largest frame a dead letter carries whole, at most {@code maxFrameBytes}, in a record of at
   * most {@code recordLimit} bytes.
   */
  static int deadLetterPayloadBytes(int maxFrameBytes, long recordLimit) {
    return (int) Math.max(0, Math.min(maxFrameBytes, recordLimit - DEAD_LETTER_HEADROOM_BYTES));
  }

  /**
   * How the engine runs, from {@code inference.threads}, {@code inference.provider} and {@code
   * cam.enabled}.
   */
  public static EngineOptions engineOptions(GapstreamConfig config) {
    return new EngineOptions(
            config.inference().threads(),
            EngineOptions.Provider.valueOf(config.inference().provider().name()))
        .withCams(config.cam().enabled());
  }

  /**
   * {@code delivery.transactional.id}, else {@code gapstream-<group>-<hostname>}. A restarted
   * replica must come back with the same id: the broker then fences the old (possibly zombie)
   * producer and aborts its open transaction at once, instead of after the transaction timeout.
   */
  static String transactionalId(GapstreamConfig config) {
    String configured = config.properties().getOrDefault(ConfigKeys.DELIVERY_TRANSACTIONAL_ID, "");
    return configured.isBlank() ? "gapstream-" + config.kafka().groupId() + "-" + hostname() : configured;
  }

  private static String hostname() {
    String env = System.getenv("HOSTNAME"); // the pod name on Kubernetes
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  /** The decoder the configuration asks for: its limits, and the pixel arrays it keeps. */
  public static FrameDecoder decoder(GapstreamConfig config, ModelSpec spec) {
    long pool = pixelPoolBytes(config, Runtime.getRuntime().maxMemory());
    return new FrameDecoder(decodeLimits(config, spec), new PixelBuffers(pool));
  }

  /**
   * The bytes of decoded pixel arrays kept for reuse: {@code ingest.pixel.pool.bytes}, but a quarter
   * of the heap at most. The pool keeps what it holds for good, so its default of 64 MiB would take
   * a third of a 192 MiB heap from the frames in flight; logged when it is cut.
   */
  static long pixelPoolBytes(GapstreamConfig config, long maxHeap) {
    return quarterOfTheHeapAtMost(ConfigKeys.INGEST_PIXEL_POOL_BYTES, config.ingest().pixelPoolBytes(), maxHeap);
  }

  /**
   * The encoded bytes of frames in flight before the consumer pauses: {@code
   * ingest.max.in.flight.bytes}, but a quarter of the heap at most, which the frames in flight
   * share with their decoded pixels, the pixel pool and the batches; logged when it is cut.
   */
  static long maxInFlightBytes(GapstreamConfig config, long maxHeap) {
    return quarterOfTheHeapAtMost(ConfigKeys.INGEST_MAX_IN_FLIGHT_BYTES, config.ingest().maxInFlightBytes(), maxHeap);
  }

  private static long quarterOfTheHeapAtMost(String key, long configured, long maxHeap) {
    long cap = maxHeap / 4;
    if (configured <= cap) {
      return configured;
    }
    LOG.info("{}={} MiB kept to {} MiB, a quarter of the heap ({} MiB)", key, configured >> 20, cap >> 20, maxHeap >> 20);
    return cap;
  }

  /**
   * A note when {@code batch.max.size} can never be reached: a batch is made of frames in flight,
   * so {@code ingest.max.in.flight} bounds it too. Not an error: a small in-flight bound is a
   * legitimate way to bound memory.
   */
  static Optional<String> batchCappedByFramesInFlight(GapstreamConfig config) {
    int size = config.batch().maxSize();
    int inFlight = config.ingest().maxInFlight();
    if (size <= inFlight) {
      return Optional.empty();
    }
    return Optional.of(String.format(
        "%s=%d is more than %s=%d: a batch is made of frames in flight, so it holds %d at most",
        ConfigKeys.BATCH_MAX_SIZE, size, ConfigKeys.INGEST_MAX_IN_FLIGHT, inFlight, inFlight));
  }

  /**
   * The decoder's limits: the configured ingest bounds and the model's size rules.
   *
   * @throws ConfigException when {@code ingest.resize.max.side} would scale every frame below the
   *     model's minimum input size
   */
  public static DecodeLimits decodeLimits(GapstreamConfig config, ModelSpec spec) {
    int maxSide = spec.maxSide(config.ingest().resizeMaxSide());
    int minSide = Math.max(spec.minWidth(), spec.minHeight());
    if (maxSide > 0 && maxSide < minSide) {
      throw new ConfigException(
          ConfigKeys.INGEST_RESIZE_MAX_SIDE + ": " + maxSide + " is below the model's minimum input "
              + spec.minWidth() + "x" + spec.minHeight() + " (" + spec.name() + "): every frame would"
              + " be scaled too small; use 0 (off) or at least " + minSide);
    }
    return new DecodeLimits(
        config.ingest().maxFrameBytes(),
        config.ingest().maxPixels(),
        spec.minWidth(),
        spec.minHeight(),
        spec.fixedWidth(),
        spec.fixedHeight(),
        maxSide);
  }

  public GapstreamConfig config() {
    return config;
  }

  /** Where the pipeline's Kafka is: the embedded broker's address when it runs one. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The embedded broker, or null when an external cluster is configured. */
  public EmbeddedKafka broker() {
    return broker;
  }

  /** How batches close: the configuration's policy, bounded by calibration where it ran. */
  public BatchPolicy batchPolicy() {
    return batchPolicy;
  }

  public PrometheusMeterRegistry registry() {
    return gapstreamMetrics.registry();
  }

  public PipelineMetrics metrics() {
    return metrics;
  }

  public Health health() {
    return health;
  }

  public int httpPort() {
    return server.actualPort();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Drains the pipeline and releases everything, in dependency order. Only the first call does. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    LOG.info("Stopping gapstream");
    health.set("stopping", false);
    try {
      await(vertx.undeploy(deploymentId), stopWait(config));
    } catch (Exception e) {
      LOG.warn("Pipeline did not stop cleanly: {}", e.toString());
    }
    if (liveView != null) {
      // ends the open event streams, which would otherwise hold their connections until closed
      liveView.close();
    }
    try {
      await(server.close());
    } catch (Exception e) {
      LOG.warn("The management server did not close cleanly: {}", e.toString());
    }
    try {
      await(vertx.close());
    } catch (Exception e) {
      LOG.warn("Vert.x did not close cleanly: {}", e.toString());
    }
    engine.close();
    gapstreamMetrics.close();
    if (broker != null) {
      broker.close();
    }
    removeExitHook();
    LOG.info("gapstream stopped");
  }

  private static <T> T await(Future<T> future) throws Exception {
    return await(future, Duration.ofMinutes(2));
  }

  private static <T> T await(Future<T> future, Duration limit) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // Its own message is null: "gapstream failed to start: null" said nothing
      throw new TimeoutException("not done within " + limit.toSeconds() + " s");
    }
  }

  /**
   * How long {@link #close} waits for the pipeline to stop: as long as the stop itself may take
   * ({@link PipelineVerticle#longestStop}), and two minutes at least. Before, two minutes whatever
   * {@code shutdown.timeout.ms} said: a drain allowed longer was cut off, the engine and the broker
   * closed under it, its final commit lost.
   */
  static Duration stopWait(GapstreamConfig config) {
    Duration stop = PipelineVerticle.longestStop(Duration.ofMillis(config.shutdownTimeoutMs()));
    return stop.compareTo(Duration.ofMinutes(2)) > 0 ? stop : Duration.ofMinutes(2);
  }

  /**
   * Runtime knobs that are not user configuration.
   *
   * @param maxEventLoopExecuteTime how long an event-loop task may run before Vert.x's blocked-thread
   *     checker warns; tests set it tight to catch blocking on the event loop
   * @param tap sees every prediction with its pixels (the live view)
   */
  public record Options(Duration maxEventLoopExecuteTime, PredictionTap tap) {
    public static final Options DEFAULT = new Options(Duration.ofSeconds(2), PredictionTap.NONE);
    /**
     * Milliseconds an event-loop task may run before Vert.x logs it with its stack (2000 by
     * default): set lower to find what keeps the loop busy, e.g. {@code
     * GAPSTREAM_JAVA_OPTS=-Dgapstream.eventloop.warn.ms=100}; the tests that start {@code run} in
     * a process of its own set 100 and fail on a block, as the in-process ones do.
     */
    public static final String EVENT_LOOP_WARN_PROPERTY = "gapstream.eventloop.warn.ms";

    /** {@link #DEFAULT}, with {@value #EVENT_LOOP_WARN_PROPERTY}'s limit where it is set. */
    public static Options fromSystemProperties() {
      String value = System.getProperty(EVENT_LOOP_WARN_PROPERTY);
      if (value == null) {
        return DEFAULT;
      }
      try {
        long ms = Long.parseLong(value.trim());
        if (ms >= 1) {
          return new Options(Duration.ofMillis(ms), DEFAULT.tap());
        }
      } catch (NumberFormatException e) {
        // refused below
      }
      throw new ConfigException(
          "system property " + EVENT_LOOP_WARN_PROPERTY + ": a whole number of milliseconds, 1 or more, not '" + value + "'");
    }

    public Options(Duration maxEventLoopExecuteTime) {
      this(maxEventLoopExecuteTime, PredictionTap.NONE);
    }

    /** The Vert.x options these knobs make: the service's own, and what tests start Vert.x with. */
    public VertxOptions vertxOptions() {
      long checkMs = Math.max(10, Math.min(1000, maxEventLoopExecuteTime.toMillis() / 2));
      return new VertxOptions()
          .setMaxEventLoopExecuteTime(maxEventLoopExecuteTime.toNanos())
          .setMaxEventLoopExecuteTimeUnit(TimeUnit.NANOSECONDS)
          .setBlockedThreadCheckInterval(checkMs)
          // Past this, the checker logs the blocked thread's stack: what blocked, not just that.
          .setWarningExceptionTime(maxEventLoopExecuteTime.toNanos())
          .setWarningExceptionTimeUnit(TimeUnit.NANOSECONDS)
          .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS);
    }
  }
}
