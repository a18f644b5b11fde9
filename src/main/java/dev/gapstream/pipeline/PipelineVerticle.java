package dev.gapstream.pipeline;

import dev.gapstream.batch.Batch;
import dev.gapstream.batch.Batcher;
import dev.gapstream.config.ConfigException;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.http.Health;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.FrameRejectedException;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.metrics.PipelineMetrics;
import dev.gapstream.publish.AtLeastOnceDelivery;
import dev.gapstream.publish.Delivery;
import dev.gapstream.publish.ExactlyOnceDelivery;
import dev.gapstream.publish.PredictionPublisher;
import dev.gapstream.publish.RecordSize;
import dev.gapstream.publish.RecordingProducer;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidTxnTimeoutException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline: consume frames, decode them on a worker pool, batch them by shape, run each batch
 * on the inference pool, publish one prediction (or dead letter) per frame, and commit each
 * partition's offsets up to the longest prefix of finished frames.
 *
 * <p>Everything here runs on this verticle's event loop, which owns all mutable state (the Kafka
 * consumer is not thread-safe, and neither are the batcher and the offset trackers). Decoding and
 * inference are handed to worker pools with {@code executeBlocking(..., false)}; their results come
 * back to the event loop through futures. Frames in flight are bounded: at {@code maxInFlight} the
 * consumer pauses and Kafka holds the rest; it resumes at half the bound. Their encoded bytes are
 * bounded the same way ({@code maxInFlightBytes}): 256 frames of a few MiB would fill a heap. The
 * bound counts every frame whose offset cannot be committed yet ({@link #backlog}), finished or
 * not: a dead letter that its topic refuses holds up its partition's commits while the predictions
 * behind it go out, and counting only the unfinished frames, the consumer went on reading past it
 * without end. Paused, it still polls (returning nothing), so the group keeps it however long the
 * pause; the few records a poll had brought already wait, encoded, until it resumes. Of those in flight, only {@link
 * PipelineSettings#decodeAhead()} are decoded ahead of the model; the rest wait encoded, as Kafka
 * delivered them (a camera's JPEG is a tenth of its pixels or less).
 */
public final class PipelineVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineVerticle.class);
  private static final long RETRY_DELAY_MS = 100;
  private static final long MAX_RETRY_DELAY_MS = 5_000;
  private static final long SLOW_LOOKUP_WARNING_MS = 5_000;
  /** A consumer that never joined a group has nothing to leave: its close is quick. */
  private static final Duration UNSUBSCRIBED_CLOSE = Duration.ofSeconds(5);
  private static final long CONNECTION_CHECK_MS = 1_000;
  /** The longest poll of the Vert.x consumer: see {@link #wire}. */
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  /** The least each step of a stop after the drain is given: the final commit, leaving the group. */
  private static final long STOP_STEP_MIN_MS = 5_000;

  private final PipelineSettings settings;
  /** {@link PipelineSettings#handOverWait()}. */
  private final long handOverWaitMs;
  private final FrameDecoder decoder;
  private final BatchRunner runner;
  private final PipelineMetrics metrics;
  private final Health health;
  private final FrameExpiry expiry;
  private final DeadLetterLog deadLetterLog = new DeadLetterLog();

  private final Batcher<Shape, Frame> batcher;
  private final Deque<Batch<Shape, Frame>> draining = new ArrayDeque<>();
  /** Consumed frames not yet handed to a decoder, in arrival order. */
  private final Deque<Frame> undecoded = new ArrayDeque<>();
  /**
   * Each partition's predictions, and its dead letters, on their way out (at-least-once;
   * exactly-once stops on a failed send). Apart, so that a dead-letter topic refusing writes holds
   * up only the dead letters, not the predictions behind them.
   */
  private final Map<TopicPartition, Outbox> predictionOutboxes = new HashMap<>();
  private final Map<TopicPartition, Outbox> deadLetterOutboxes = new HashMap<>();
  /** Readiness's {@code broker} check, down while any of those outboxes has outputs waiting. */
  private final OutboxReadiness outboxReadiness;
  /** Readiness's {@code polling} check: down while the consumer's polls end with errors. */
  private final PollErrors pollErrors = new PollErrors();
  /** Records delivered after the consumer paused, not yet in flight, in arrival order. */
  private final Deque<ConsumerRecord<byte[], byte[]>> held = new ArrayDeque<>();
  /** Frames being decoded, or decoded and waiting for their batch to start. */
  private int decodedAhead;
  /** Frames handed to the decode pool and not back yet. */
  private int decoding;
  /** Pixels of the frames decoded and waiting for their batch to start. */
  private long decodedPixels;
  /** Pixels of the frame decoded last: what a frame being decoded is taken to have. */
  private long lastFramePixels;
  private OffsetCommitter committer;

  private KafkaConsumer<byte[], byte[]> consumer;
  /** The consumer Vert.x polls, which {@linkplain PipelineConsumer#hold holds} partitions for backpressure. */
  private PipelineConsumer polled;
  private KafkaProducer<byte[], byte[]> producer;
  /** Whether the consumer has been told to subscribe (the output topics found). */
  private boolean subscribed;
  private PredictionPublisher publisher;
  /** The most bytes a prediction may take; set, with the publisher, once the output topics are found. */
  private OutputLimit predictionLimit;
  private Delivery delivery;
  private WorkerExecutor decodePool;
  private WorkerExecutor inferencePool;
  private AutoCloseable clientMetrics;

  private volatile int inFlight;
  /** The encoded bytes of the frames {@link #inFlight}: their records' values. */
  private long inFlightBytes;
  private volatile boolean paused;
  private int freeSlots;
  private long deadlineTimer = -1;
  private long connectionTimer = -1;
  private long topicsTimer = -1;
  private long slowLookupTimer = -1;
  /** Read by the polling thread too (the revocation hook). */
  private volatile boolean stopping;
  /**
   * Set just before the consumer closes, whose close revokes every partition: the rebalance hooks
   * leave that revocation alone (a stop has made its final commit; a failure commits nothing more).
   * Not {@link #stopping}: a rebalance during a drain (a replica joining) still hands its revoked
   * partitions over, or their next owner would start from their last commit, and in exactly-once
   * mode the drain's transaction would commit their offsets under the new generation.
   */
  private volatile boolean closing;
  private Promise<Void> drained;
  /** Set by {@link #fail}: completes once the delivery is abandoned and the consumer has left. */
  private Future<Void> failed;

  public PipelineVerticle(
      PipelineSettings settings,
      FrameDecoder decoder,
      BatchRunner runner,
      PipelineMetrics metrics,
      Health health) {
    this.settings = settings;
    this.handOverWaitMs = kafkaClient(ConfigKeys.KAFKA_CONSUMER_PREFIX, () -> settings.handOverWait().toMillis());
    this.decoder = decoder;
    this.runner = runner;
    this.metrics = metrics;
    this.health = health;
    this.outboxReadiness = new OutboxReadiness(health);
    this.expiry = new FrameExpiry(settings.maxFrameAge().toMillis());
    this.batcher = new Batcher<>(settings.batchPolicy(), Shape::pixels, System::nanoTime);
    this.freeSlots = settings.inferenceConcurrency();
  }

  @Override
  public Future<?> start() {
    committer = new OffsetCommitter(vertx, settings.exactlyOnce(), settings.commitInterval(), this::fail);
    // Building Kafka clients loads classes and resolves addresses, which took seconds on a busy
    // machine: that runs on a worker (with the exactly-once producer's fencing, and the worker pools,
    // whose first creation loads classes too: 173 ms on this loop once), and only the Vert.x
    // wrapping happens here.
    return vertx.executeBlocking(() -> {
      decodePool = vertx.createSharedWorkerExecutor("gapstream-decode", settings.decodeThreads());
      inferencePool =
          vertx.createSharedWorkerExecutor(
              "gapstream-inference", settings.inferenceConcurrency(), 10, TimeUnit.MINUTES);
      return nativeClients();
    }, false).compose(this::wire);
  }

  private Future<Void> wire(NativeClients clients) {
    clientMetrics = clients.metrics();
    producer = KafkaProducer.create(vertx, clients.producer());
    // A failed send also fails its own future, where it is handled (retried, or dead-lettered
    // without its bytes); without a handler Vert.x would log each one again as unhandled.
    producer.exceptionHandler(e -> LOG.debug("Kafka producer error: {}", e.toString()));
    polled = clients.consumer();
    consumer = KafkaConsumer.create(vertx, polled);
    // Vert.x runs commits, pauses and the close on the polling thread between polls, so each waits
    // for the poll running: with its default of a second, an idle replica's commits and its stop
    // waited up to that long. Polls with records return as soon as they have them.
    consumer.pollTimeout(POLL_TIMEOUT);
    consumer.partitionsAssignedHandler(this::onAssigned);
    consumer.partitionsRevokedHandler(this::onRevoked);
    // On the polling thread. Only a poll's own errors are the poll's: a failed commit's (one during
    // a rebalance, a coordinator away) fails its future too, which OffsetCommitter logs and retries;
    // counted here it made the polling thread wait and took readiness down though polls went on.
    consumer.exceptionHandler(e -> {
      if (polled.endedLatestPoll(e)) {
        pollErrors.record(e);
      } else {
        LOG.debug("Kafka consumer task: {}", e.toString());
      }
    });
    consumer.handler(this::onRecord);
    metrics.setInFlightSupplier(() -> inFlight);
    metrics.setPausedSupplier(() -> paused);
    health.set("partitions", false);
    health.set("kafka", false);
    health.set(PollErrors.CHECK, true);
    // Readiness follows the consumer's connection to the cluster: during a broker outage nothing
    // fails on the consume side (the client only retries), so without this /health/ready stays up.
    connectionTimer = vertx.setPeriodic(1, CONNECTION_CHECK_MS, id -> checkConnection());
    delivery =
        settings.exactlyOnce()
            ? new ExactlyOnceDelivery(vertx, producer, polled::membership, metrics::transactionResent)
            : new AtLeastOnceDelivery(consumer);
    committer.deliverThrough(delivery);
    health.set("topics", false);
    warnIfFirstLookupIsSlow();
    subscribeOnceOutputsFound(RETRY_DELAY_MS);
    return Future.succeededFuture();
  }

  /**
   * Joins the consumer group only once the producer has found both output topics. A replica that
   * cannot publish (a topic misnamed, missing where topics are not auto-created, or not writable by
   * its principal) then stays unready and out of the group, and leaves its partitions to the
   * replicas that can, instead of taking frames it can only hold: during a rolling update with a
   * wrong topic the old pods keep working. The lookup waits up to the producer's {@code
   * max.block.ms} and runs on a worker; once found, the first predictions do not wait for metadata.
   */
  private void subscribeOnceOutputsFound(long retryDelayMs) {
    vertx.executeBlocking(this::findOutputTopics, false).onComplete(found -> {
      vertx.cancelTimer(slowLookupTimer);
      if (stopping) {
        return;
      }
      if (found.failed()) {
        LOG.error(
            "Not consuming {} until the pipeline can publish: {}; retrying in {} ms",
            settings.framesTopic(), found.cause().getMessage(), retryDelayMs);
        topicsTimer = vertx.setTimer(retryDelayMs, id ->
            subscribeOnceOutputsFound(Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2)));
        return;
      }
      limitOutputs(found.result());
      health.set("topics", true);
      subscribed = true;
      consumer
          .subscribe(settings.framesTopic())
          .onSuccess(v -> LOG.info(
              "Consuming {} ({})",
              settings.framesTopic(),
              settings.exactlyOnce() ? "exactly-once" : "at-least-once"))
          .onFailure(e -> fail("subscribing to " + settings.framesTopic() + " failed: " + e));
    });
  }

  /**
   * A lookup of a missing topic ends only at {@code max.block.ms} (a minute by default): says sooner
   * why nothing is consumed, unless the first lookup has ended by then (later ones follow an error
   * that says it).
   */
  private void warnIfFirstLookupIsSlow() {
    long maxBlockMs = settings.producerMaxBlockMs();
    slowLookupTimer = vertx.setTimer(slowLookupWarningMs(maxBlockMs), id -> LOG.warn(
        "Not consuming {} yet: still looking up the output topics '{}' ({}) and '{}' ({}); a lookup"
            + " waits up to {} ms ({}) for brokers that do not answer ({} {}) or a topic the cluster does"
            + " not have",
        settings.framesTopic(),
        settings.predictionsTopic(), ConfigKeys.TOPICS_PREDICTIONS,
        settings.deadLetterTopic(), ConfigKeys.TOPICS_DLQ,
        maxBlockMs, ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.MAX_BLOCK_MS_CONFIG,
        ConfigKeys.KAFKA_BOOTSTRAP_SERVERS, settings.producerConfig().get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)));
  }

  /**
   * Closes the consumer: Vert.x's stream, or, where it never subscribed (stopped or failed while
   * the output topics were still being looked up), the native consumer itself. Vert.x's close of a
   * stream that never started does nothing, and the consumer's connections, metrics and (with {@code
   * group.protocol=consumer}) its background thread stayed open.
   */
  private Future<Void> closeConsumer() {
    if (subscribed) {
      return consumer.close();
    }
    return vertx.executeBlocking(() -> {
      polled.close(CloseOptions.timeout(UNSUBSCRIBED_CLOSE));
      return null;
    });
  }

  /** When a first lookup still running is worth a warning: soon, and before the lookup gives up. */
  private static long slowLookupWarningMs(long maxBlockMs) {
    return Math.max(1, Math.min(SLOW_LOOKUP_WARNING_MS, maxBlockMs / 2));
  }

  /** The most bytes a prediction may take, and the most of its frame's a dead letter carries. */
  private record OutputLimits(OutputLimit prediction, OutputLimit deadLetter, int deadLetterPayloadBytes) {}

  /**
   * Runs on a worker: the producer's metadata of each output topic, or which one it lacks; whether
   * the producer's principal may write to them ({@link OutputTopicAccess}); then what
   * each takes. In at-least-once mode that is the producer's limit: a topic's refusal is handled when
   * it comes, so its limit counts as it is then. In exactly-once mode a refusal would doom the
   * transaction, so the topics' own limits are read here, once (one raised later counts from the
   * next start).
   */
  private OutputLimits findOutputTopics() {
    Map<String, String> outputs = new LinkedHashMap<>();
    outputs.put(settings.predictionsTopic(), ConfigKeys.TOPICS_PREDICTIONS);
    outputs.put(settings.deadLetterTopic(), ConfigKeys.TOPICS_DLQ);
    for (Map.Entry<String, String> output : outputs.entrySet()) {
      try {
        producer.unwrap().partitionsFor(output.getKey());
      } catch (KafkaException e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage().replaceAll("\\.$", "");
        throw new IllegalStateException(
            String.format(
                "cannot publish to topic '%s' (%s): %s. Create the topic, let this principal write to it,"
                    + " or correct %s",
                output.getKey(), output.getValue(), why, output.getValue()),
            e);
      }
    }
    List<String> unwritable = OutputTopicAccess.unwritable(settings.producerConfig(), List.copyOf(outputs.keySet()));
    if (!unwritable.isEmpty()) {
      String topic = unwritable.get(0);
      throw new IllegalStateException(String.format(
          "cannot publish to topic '%s' (%s): the broker says this principal may not write to it. Let it"
              + " write to the topic, or correct %s",
          topic, outputs.get(topic), outputs.get(topic)));
    }
    Map<String, Long> topicLimits =
        settings.exactlyOnce()
            ? OutputLimit.readTopicLimits(settings.producerConfig(), List.copyOf(outputs.keySet()))
            : Map.of();
    OutputLimit producerLimit = OutputLimit.ofProducer(settings.producerMaxRequestSize());
    OutputLimit deadLetter = producerLimit.orTopics(topicLimits, settings.deadLetterTopic());
    return new OutputLimits(
        producerLimit.orTopics(topicLimits, settings.predictionsTopic()),
        deadLetter,
        GapstreamService.deadLetterPayloadBytes(settings.deadLetterPayloadBytes(), deadLetter.bytes()));
  }

  private void limitOutputs(OutputLimits limits) {
    predictionLimit = limits.prediction();
    publisher = new PredictionPublisher(
        producer, settings.predictionsTopic(), settings.deadLetterTopic(), limits.deadLetterPayloadBytes(),
        limits.deadLetter().bytes(), limits.deadLetter().what(), metrics::publishFailed);
    LOG.info(
        "Predictions over {} bytes ({}) are dead-lettered as too large; dead letters carry frames of up to {}"
            + " bytes ({}, less room for the headers)",
        limits.prediction().bytes(), limits.prediction().what(),
        limits.deadLetterPayloadBytes(), limits.deadLetter().what());
  }

  private record NativeClients(
      PipelineConsumer consumer,
      Producer<byte[], byte[]> producer,
      AutoCloseable metrics) {}

  /**
   * A Kafka client; where the client refuses its settings (a value out of range, or settings that
   * exclude each other, such as {@code session.timeout.ms} with {@code group.protocol=consumer}),
   * a start-up failure that says they are the {@code prefix} settings: the client names its own key.
   */
  private static <T> T kafkaClient(String prefix, Supplier<T> create) {
    try {
      return create.get();
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new ConfigException(prefix + "*: " + e.getMessage(), e);
    } catch (org.apache.kafka.common.KafkaException e) {
      // "Failed to construct kafka producer", the client's refusal as its cause.
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        if (t instanceof org.apache.kafka.common.config.ConfigException refused) {
          throw new ConfigException(prefix + "*: " + refused.getMessage(), e);
        }
      }
      throw e;
    }
  }

  /**
   * The producer's {@code initTransactions}; where the brokers refuse its transaction timeout as
   * longer than they allow, a start-up failure naming the key, not "Unexpected error in
   * InitProducerIdResponse".
   */
  private static void initTransactions(Producer<byte[], byte[]> producer, Map<String, Object> producerConfig) {
    try {
      producer.initTransactions();
    } catch (org.apache.kafka.common.KafkaException e) {
      // The client wraps the broker's error in "Unexpected error in InitProducerIdResponse; <its message>".
      String refused = Errors.INVALID_TRANSACTION_TIMEOUT.message();
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof InvalidTxnTimeoutException || t.getMessage() != null && t.getMessage().contains(refused)) {
          Object timeout = producerConfig.getOrDefault(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
          throw new ConfigException(ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.TRANSACTION_TIMEOUT_CONFIG + "="
              + timeout + ": longer than the brokers allow (their transaction.max.timeout.ms, 15 minutes by default)", e);
        }
      }
      throw e;
    }
  }

  /**
   * The producer's {@code buffer.memory}: what the user let it hold of outputs not yet acknowledged,
   * and so what exactly-once keeps of an open transaction's outputs to send them again (see {@link
   * ExactlyOnceDelivery}).
   */
  private static long bufferMemory(Map<String, Object> producerConfig) {
    Object parsed = ProducerConfig.configDef().parse(producerConfig).get(ProducerConfig.BUFFER_MEMORY_CONFIG);
    return ((Number) parsed).longValue();
  }

  /** Runs on a worker: client construction, and in exactly-once mode the producer's fencing. */
  private NativeClients nativeClients() {
    Map<String, Object> consumerConfig = new HashMap<>(settings.consumerConfig());
    Map<String, Object> producerConfig = new HashMap<>(settings.producerConfig());
    var producer = kafkaClient(ConfigKeys.KAFKA_PRODUCER_PREFIX,
        () -> new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(producerConfig));
    try {
      if (settings.exactlyOnce()) {
        // Blocks until the broker fenced any earlier producer with this transactional.id.
        initTransactions(producer, producerConfig);
      }
      var consumer = kafkaClient(ConfigKeys.KAFKA_CONSUMER_PREFIX, () -> new PipelineConsumer(
          consumerConfig, settings.exactlyOnce() ? new CommitBeforeRevoking() : new CommitFinishedBeforeRevoking()));
      return new NativeClients(
          consumer,
          settings.exactlyOnce() ? new RecordingProducer(producer, bufferMemory(producerConfig)) : producer,
          metrics.bindKafkaClients(
              consumer, producer,
              List.of(settings.framesTopic(), settings.predictionsTopic(), settings.deadLetterTopic())));
    } catch (RuntimeException e) {
      producer.close();
      throw e;
    }
  }

  /**
   * Exactly-once: the rebalance waits (on the polling thread) while the event loop drops the
   * revoked partitions' outputs not sent yet and commits the open transaction with the offsets of
   * what was sent, so that the partitions' next owner starts after it. Without this the revocation
   * reached the event loop after Kafka had moved the partitions on, and the next owner published
   * again what this replica still committed. A commit that cannot end in time fails the pipeline
   * and is aborted.
   */
  private final class CommitBeforeRevoking implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<org.apache.kafka.common.TopicPartition> partitions) {
      if (partitions.isEmpty() || closing) {
        return; // the consumer's close revokes everything: see closing
      }
      Set<TopicPartition> revoked = vertxPartitions(partitions);
      CompletableFuture<Void> done = new CompletableFuture<>();
      context.runOnContext(v -> {
        dropHeld(revoked);
        committer.revokeNow(revoked).onComplete(ar -> done.complete(null));
      });
      try {
        done.get(handOverWaitMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // The commit still waits for its outputs (the output topic's leader away, say). Once the
        // rebalance goes on, the revoked partitions' offsets leave the committer, and a commit then
        // would publish their outputs without them: their next owner would publish those frames
        // again. So the transaction is aborted, whenever its sends end, and the pipeline fails; a
        // restart resumes from the committed offsets.
        context.runOnContext(v -> fail(
            "revoking " + revoked + ": the open transaction did not commit within " + handOverWaitMs
                + " ms (its outputs unacknowledged); aborted, so that the partitions' next owner publishes them"));
      } catch (ExecutionException e) {
        LOG.warn("Revoking {}: {}", revoked, e.getCause().toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<org.apache.kafka.common.TopicPartition> partitions) {}

    /**
     * Lost, not revoked: the group gave them away while this replica stood still (a long pause, a
     * missed session), and their next owner may have published their frames already. Nothing of
     * them may be committed now, and the open transaction holds their outputs: the pipeline fails
     * (a restart resumes from the committed offsets) and the transaction is aborted before this
     * consumer rejoins, which would give the commit a generation the broker accepts.
     */
    @Override
    public void onPartitionsLost(Collection<org.apache.kafka.common.TopicPartition> partitions) {
      if (partitions.isEmpty() || closing) {
        return;
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      context.runOnContext(v -> {
        fail("partitions " + partitions + " lost: the group moved on without this replica");
        delivery.abandon().onComplete(ar -> done.complete(null));
      });
      try {
        done.get(handOverWaitMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        LOG.warn("Partitions {} lost: aborting the transaction did not end in {} ms", partitions, handOverWaitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * At-least-once: the rebalance waits (on the polling thread) while the event loop hands over the
   * revoked partitions' offsets finished since their last commit, and forgets the partitions; they
   * are then committed here, under the generation that still counts them as this replica's, so that
   * their next owner starts after them. Vert.x would hand the revocation to the event loop only
   * after Kafka had moved the partitions on, and the commit it made then, or one the event loop sent
   * before it heard, ran under the new generation, which the broker accepts for any partition: it
   * could move the next owner's committed offset back (frames published again at a later
   * rebalance; none lost). {@link PipelineConsumer#commitSync(Map)} leaves such offsets out of a
   * commit still queued. The commit never carries a frame whose output is not acknowledged: a
   * tracker's committable position only moves over finished frames.
   */
  private final class CommitFinishedBeforeRevoking implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<org.apache.kafka.common.TopicPartition> partitions) {
      if (partitions.isEmpty() || closing) {
        return; // the consumer's close revokes everything: see closing
      }
      Set<TopicPartition> revoked = vertxPartitions(partitions);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(handOverWaitMs);
      Map<TopicPartition, io.vertx.kafka.client.consumer.OffsetAndMetadata> finished =
          onEventLoop(revoked, "Revoking", () -> {
            dropHeld(revoked);
            return committer.handOver(revoked);
          });
      if (finished == null || finished.isEmpty()) {
        return;
      }
      var offsets = Delivery.toNative(finished);
      try {
        // One wait for the answer and the commit together: the rebalance timeout bounds both.
        long leftMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        polled.commitRevoked(offsets, Duration.ofMillis(leftMs));
        LOG.debug("Revoking {}: committed {}", revoked, offsets);
      } catch (WakeupException | InterruptException e) {
        throw e; // the consumer is closing: Kafka's rebalance gives up too
      } catch (KafkaException e) {
        // Their next owner starts from the last commit and publishes some frames again.
        LOG.warn("Revoking {}: committing {} failed: {}", revoked, offsets, e.toString());
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<org.apache.kafka.common.TopicPartition> partitions) {}

    /**
     * Lost, not revoked: the group gave them away while this replica stood still, and their next
     * owner may have committed further already. Nothing of them is committed from here on.
     */
    @Override
    public void onPartitionsLost(Collection<org.apache.kafka.common.TopicPartition> partitions) {
      if (partitions.isEmpty() || closing) {
        return;
      }
      Set<TopicPartition> lost = vertxPartitions(partitions);
      onEventLoop(lost, "Forgetting lost partitions", () -> {
        dropHeld(lost);
        committer.forget(lost);
        return null;
      });
    }

    /**
     * Runs {@code task} on the event loop and waits for it, up to the rebalance's hand-over wait (the loop
     * never blocks: it answers at once); {@code null} where it did not answer in time. Then the
     * partitions are forgotten when it does, and nothing of them is committed.
     */
    private <T> T onEventLoop(Set<TopicPartition> partitions, String what, Supplier<T> task) {
      CompletableFuture<T> done = new CompletableFuture<>();
      context.runOnContext(v -> {
        try {
          done.complete(task.get());
        } catch (RuntimeException e) {
          done.completeExceptionally(e);
        }
      });
      try {
        return done.get(handOverWaitMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        LOG.warn("{} {}: the event loop did not answer within {} ms", what, partitions, handOverWaitMs);
      } catch (ExecutionException e) {
        LOG.warn("{} {}: {}", what, partitions, e.getCause().toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    }
  }

  private static Set<TopicPartition> vertxPartitions(Collection<org.apache.kafka.common.TopicPartition> partitions) {
    Set<TopicPartition> out = new HashSet<>();
    partitions.forEach(tp -> out.add(new TopicPartition(tp.topic(), tp.partition())));
    return out;
  }

  /**
   * Graceful drain: take no more records, finish what is in flight, commit, then leave the group.
   * The consumer goes on polling, held (no records): a replica joining meanwhile (a rolling update's
   * new pod) rebalances the group now, and this one hands its revoked partitions over, rather than
   * the whole group waiting for the drain to end.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    health.set("draining", false);
    vertx.cancelTimer(connectionTimer);
    vertx.cancelTimer(topicsTimer);
    vertx.cancelTimer(slowLookupTimer);
    polled.hold(true);
    long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
    Future<Void> committed;
    if (failed != null) {
      // Nothing in flight can be committed any more: draining would only wait out
      // shutdown.timeout.ms for frames whose sends fail. What is left is fail's abort and leave.
      LOG.info("Stopping a failed pipeline: its {} frames in flight will be consumed again", inFlight);
      committed = inTime(failed, deadline,
          "Abandoning the delivery", "an open transaction holds read_committed readers until it times out");
    } else {
      drained = Promise.promise();
      dispatch();
      finishDrainIfIdle();
      LOG.info("Draining {} frames in flight", inFlight);
      committed = drained
          .future()
          .timeout(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)
          .recover(e -> {
            LOG.warn("Drain timed out with {} frames in flight; they will be consumed again", inFlight);
            return Future.<Void>succeededFuture();
          })
          .compose(v -> failed != null
              ? inTime(failed, deadline,
                  "Abandoning the delivery", "an open transaction holds read_committed readers until it times out")
              : inTime(committer.commitFinal(), deadline,
                  "The final commit", "frames since the last commit will be consumed again"));
    }
    return committed
        // On a worker: the close waits for a metrics refresh still running, up to seconds.
        .eventually(() -> vertx.executeBlocking(() -> {
          closeQuietly(clientMetrics);
          return null;
        }))
        .eventually(() -> {
          closing = true;
          committer.consumerClosing();
          return inTime(closeConsumer(), deadline,
              "Leaving the consumer group", "the partitions move on once the session times out");
        })
        .eventually(() -> producer.close(stepBudgetMs(deadline)))
        .eventually(() -> decodePool.close())
        .eventually(() -> inferencePool.close())
        .onComplete(ar -> LOG.info("Pipeline stopped"));
  }

  /**
   * {@code step}, given up on once what is left of the stop's time has passed (or {@link
   * #STOP_STEP_MIN_MS}): with the broker away the final commit and leaving the group each waited a
   * minute or more, and a pod not done within its grace period is killed.
   */
  private static Future<Void> inTime(Future<Void> step, long deadline, String what, String consequence) {
    long budgetMs = stepBudgetMs(deadline);
    return step
        .timeout(budgetMs, TimeUnit.MILLISECONDS)
        .recover(e -> {
          if (e instanceof TimeoutException) {
            LOG.warn("{} did not end within {} ms: {}", what, budgetMs, consequence);
          } else {
            LOG.warn("{} failed ({}): {}", what, e.toString(), consequence);
          }
          return Future.succeededFuture();
        });
  }

  /**
   * The longest {@link #stop} takes with a drain of at most {@code drainTimeout}: the drain, then
   * the final commit, leaving the group and closing the producer, each given what is left of the
   * drain's time or {@link #STOP_STEP_MIN_MS} at least; and a margin for closing the client
   * metrics and the worker pools, which take no time unless a thread is stuck.
   */
  static Duration longestStop(Duration drainTimeout) {
    return drainTimeout.plusMillis(3 * STOP_STEP_MIN_MS).plusSeconds(30);
  }

  private static long stepBudgetMs(long deadline) {
    return Math.max(STOP_STEP_MIN_MS, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.debug("Closing {} failed: {}", closeable, e.toString());
    }
  }

  private void checkConnection() {
    // Until it subscribes, once the output topics are found, the consumer connects to nothing: the
    // producer, which looks them up, tells whether the cluster answers (a missing topic is not an
    // outage; the topics check says that one).
    boolean connected = subscribed
        ? ConnectionProbe.connected(consumer.unwrap().metrics(), "consumer-metrics")
        : ConnectionProbe.connected(producer.unwrap().metrics(), "producer-metrics");
    health.set("kafka", connected);
    health.set(PollErrors.CHECK, !pollErrors.failing());
  }

  private void onAssigned(Set<TopicPartition> partitions) {
    committer.assigned(partitions);
    LOG.info("Assigned {}", partitions);
    health.set("partitions", committer.hasPartitions());
    checkConnection(); // ready now, not at the next periodic check: up to a second later
  }

  private void onRevoked(Set<TopicPartition> partitions) {
    dropHeld(partitions);
    // Outputs of revoked partitions still waiting are dropped as they come up (their trackers are
    // revoked), their offsets never committed here: their next owner reads those frames again.
    predictionOutboxes.entrySet().removeIf(e -> partitions.contains(e.getKey()) && e.getValue().isIdle());
    deadLetterOutboxes.entrySet().removeIf(e -> partitions.contains(e.getKey()) && e.getValue().isIdle());
    // Both modes' rebalance hooks have committed and forgotten these partitions already, inside the
    // rebalance; what is left is the close's revocation (after a stop's final commit, or a failure).
    committer.revoked(partitions);
    LOG.info("Revoked {}", partitions);
    health.set("partitions", committer.hasPartitions());
    dropRevokedUndecoded();
    resumeIfBelowHalf(); // the revoked partitions' uncommitted frames no longer count
  }

  /**
   * Drops the frames waiting to be decoded whose partition was revoked: their next owner reads them
   * again. Decoded and run here, their outputs would only be dropped, and counted in flight until
   * then they kept the consumer paused, on the partitions it still has or was given back.
   */
  private void dropRevokedUndecoded() {
    List<Frame> revoked = new ArrayList<>();
    undecoded.removeIf(frame -> frame.tracker().isRevoked() && revoked.add(frame));
    revoked.forEach(this::dropped);
  }

  // ---- ingest ----

  private void onRecord(KafkaConsumerRecord<byte[], byte[]> in) {
    if (stopping) {
      return; // not tracked, so not committed: the group's next owner reads it again
    }
    if (paused || !held.isEmpty()) {
      held.add(in.record()); // a poll's worth at most: the consumer returns nothing more while paused
      return;
    }
    accept(in.record());
  }

  private void accept(ConsumerRecord<byte[], byte[]> record) {
    Frame frame = new Frame(record, committer.consumed(record), System.nanoTime());
    inFlight++;
    inFlightBytes += encodedBytes(frame);
    metrics.frameReceived();
    if ((backlog() >= settings.maxInFlight() || inFlightBytes >= settings.maxInFlightBytes()) && !paused) {
      paused = true;
      polled.hold(true);
    }
    undecoded.add(frame);
    decodeAhead();
  }

  /**
   * Takes the held records in, until the bound pauses the consumer again; only if it does not does
   * the consumer fetch again (a poll in between would add a poll's worth to the held ones).
   */
  private void resumeConsuming() {
    paused = false;
    while (!paused && !held.isEmpty() && !stopping) {
      accept(held.poll());
    }
    if (!paused) {
      polled.hold(false);
    }
  }

  /**
   * Forgets the held records of partitions this replica no longer has: their next owner reads them
   * (never tracked, they were never committed).
   */
  private void dropHeld(Set<TopicPartition> partitions) {
    held.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
  }

  /**
   * Hands frames to the decoders while fewer than {@link PipelineSettings#decodeAhead()} are
   * decoding or decoded and waiting for a batch, fewer than {@link
   * PipelineSettings#decodeAheadPixels()} pixels are (a frame being decoded counted as large as the
   * last one decoded: a stream's frames mostly are), and the pool has fewer than {@link
   * PipelineSettings#decodeQueue()} to do. A backlog waits encoded: decoded all at once, 256 frames
   * of 1280×720 would take 700 MB for pixels the model reaches only seconds later, and they would
   * leave the caches long before it does. A frame older than {@code ingest.max.frame.age.ms} when
   * its turn comes is {@linkplain #expire expired} instead.
   */
  private void decodeAhead() {
    while (!undecoded.isEmpty()
        && decodedAhead < settings.decodeAhead()
        && decodedPixels + decoding * lastFramePixels < settings.decodeAheadPixels()
        && decoding < settings.decodeQueue()) {
      Frame frame = undecoded.poll();
      if (frame.tracker().isRevoked()) { // lost, say, or revoked since onRevoked
        dropped(frame);
        continue;
      }
      if (expiry.enabled()) {
        long now = System.currentTimeMillis();
        long age = expiry.ageIfExpired(frame.record().timestamp(), now);
        if (age >= 0) {
          expire(frame, age, now);
          continue;
        }
      }
      decodedAhead++;
      decoding++;
      decodePool
          .executeBlocking(() -> decode(frame), false)
          .onComplete(ar -> onDecoded(frame, ar));
    }
  }

  /**
   * Dead-letters a frame too old to classify, without its bytes: a pipeline far behind live cameras
   * skips a backlog's worth, which the dead-letter topic need not hold twice.
   */
  private void expire(Frame frame, long ageMs, long nowMs) {
    expiry.skipped(frame.source(), ageMs, nowMs);
    output(
        frame,
        deadLetterOutboxes,
        () -> withoutValueOrFrame(
            frame, RejectReason.EXPIRED, expiry.error(ageMs), "expired: the frame is still in its topic (dlq-source)"),
        sent -> countRejected(RejectReason.EXPIRED));
  }

  /** Runs on a decode worker. */
  private DecodedFrame decode(Frame frame) {
    long start = System.nanoTime();
    DecodedFrame pixels =
        decoder.decode(
            frame.record().value(),
            frame.header(Frame.CONTENT_TYPE_HEADER),
            frame.intHeader(Frame.WIDTH_HEADER),
            frame.intHeader(Frame.HEIGHT_HEADER));
    long end = System.nanoTime();
    metrics.recordDecode(end - start);
    frame.decoded(pixels, end);
    return pixels;
  }

  private void onDecoded(Frame frame, AsyncResult<DecodedFrame> result) {
    decoding--;
    if (result.succeeded() && frame.tracker().isRevoked()) {
      decodedAhead--;
      dropped(frame);
      decodeAhead();
      return;
    }
    if (result.succeeded()) {
      DecodedFrame pixels = result.result();
      Shape shape = new Shape(pixels.width(), pixels.height());
      lastFramePixels = shape.pixels();
      decodedPixels += lastFramePixels;
      batcher.add(shape, frame);
      dispatch();
      return;
    }
    decodedAhead--;
    if (result.cause() instanceof FrameRejectedException rejected) {
      deadLetter(frame, rejected.reason(), rejected.getMessage());
    } else {
      deadLetter(frame, RejectReason.DECODE_ERROR, String.valueOf(result.cause()));
    }
    decodeAhead();
  }

  // ---- batch and infer ----

  private void dispatch() {
    if (stopping && decoding == 0 && undecoded.isEmpty()) {
      // No frame can join the open batches any more: run them now, not at their deadlines. Drained
      // with every frame decoded, the frames still to decode after a stop each ran as a batch of one.
      draining.addAll(batcher.drain());
    }
    while (freeSlots > 0) {
      Batch<Shape, Frame> batch = draining.isEmpty() ? batcher.takeReady() : draining.poll();
      if (batch == null) {
        break;
      }
      decodedAhead -= batch.size();
      decodedPixels -= batch.size() * batch.key().pixels();
      if (batch.items().stream().allMatch(frame -> frame.tracker().isRevoked())) {
        batch.items().forEach(this::dropped); // nothing of it would go out: see dropRevokedUndecoded
        continue;
      }
      freeSlots--;
      metrics.recordBatch(batch.size(), batch.waitNanos());
      inferencePool
          .executeBlocking(() -> runner.run(batch), false)
          .onComplete(ar -> onInferred(batch, ar));
    }
    armDeadline();
    decodeAhead();
  }

  private void armDeadline() {
    if (deadlineTimer >= 0 || freeSlots == 0) {
      return;
    }
    batcher
        .nextDeadline()
        .ifPresent(deadline -> {
          long delayMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime() + 999_999));
          deadlineTimer =
              vertx.setTimer(delayMs, id -> {
                deadlineTimer = -1;
                dispatch();
              });
        });
  }

  private void onInferred(Batch<Shape, Frame> batch, AsyncResult<List<Outcome>> result) {
    freeSlots++;
    if (result.succeeded()) {
      for (Outcome outcome : result.result()) {
        outcome.frame().releasePixels();
        if (outcome.isPrediction()) {
          publish(outcome.frame(), outcome.json());
        } else {
          deadLetter(outcome.frame(), outcome.reason(), outcome.error());
        }
      }
    } else {
      LOG.warn("Batch of {} {} frames failed: {}", batch.size(), batch.key(), result.cause().toString());
      for (Frame frame : batch.items()) {
        frame.releasePixels();
        deadLetter(frame, RejectReason.INFERENCE_ERROR, "batch failed: " + result.cause());
      }
    }
    dispatch();
  }

  // ---- publish and commit ----

  /**
   * Publishes a frame's prediction, or dead-letters it ({@code too-large}) where its record is over
   * the {@linkplain OutputLimit most a prediction may take}.
   */
  private void publish(Frame frame, byte[] json) {
    KafkaProducerRecord<byte[], byte[]> prediction = publisher.prediction(frame, json);
    long bytes = RecordSize.upperBound(prediction);
    if (bytes > predictionLimit.bytes()) {
      deadLetter(frame, RejectReason.TOO_LARGE, String.format(
          "its prediction %s (predictions grow with %s and %s)",
          predictionLimit.describe(bytes), ConfigKeys.CAM_HEATMAP, ConfigKeys.PREDICTIONS_TOP_K));
      return;
    }
    output(frame, predictionOutboxes, () -> sendPrediction(frame, prediction, bytes), sent -> {
      if (sent.getTopic().equals(settings.deadLetterTopic())) { // refused as too large (topics differ)
        countRejected(RejectReason.TOO_LARGE);
        return;
      }
      // Counted and timed once there to stay (as dead letters, see countRejected): in exactly-once
      // mode when its transaction commits, which is when a read_committed reader has it.
      long timestamp = frame.record().timestamp();
      delivery.whenDurable(() -> {
        metrics.predictionPublished();
        metrics.recordEndToEnd(System.currentTimeMillis() - timestamp);
      });
    });
  }

  /** The prediction, or {@linkplain #unlessTooLarge where refused as too large} the frame's dead letter. */
  private Future<RecordMetadata> sendPrediction(
      Frame frame, KafkaProducerRecord<byte[], byte[]> prediction, long bytes) {
    return unlessTooLarge(publisher.send(prediction), e -> {
      String error = String.format(
          "its prediction (up to %d bytes) was refused by topic '%s': %s", bytes, settings.predictionsTopic(), e);
      deadLetterLog.deadLettered(frame.source(), RejectReason.TOO_LARGE, error, System.currentTimeMillis());
      return deadLetterOrWithoutValue(frame, RejectReason.TOO_LARGE, error);
    });
  }

  private void deadLetter(Frame frame, RejectReason reason, String error) {
    deadLetterLog.deadLettered(frame.source(), reason, error, System.currentTimeMillis());
    output(
        frame, deadLetterOutboxes, () -> deadLetterOrWithoutValue(frame, reason, error), sent -> countRejected(reason));
  }

  /**
   * Counts a frame's dead letter in {@code gapstream_frames_rejected_total} once the broker has it
   * for good: {@linkplain Delivery#whenDurable at its acknowledgement, or once its transaction
   * commits}. Counted when the pipeline chose to dead-letter the frame, it was counted before it
   * was there (in at-least-once mode still waiting to be sent again), and twice where exactly-once
   * mode sent it again after an aborted transaction or left the frame to its partition's next
   * owner.
   */
  private void countRejected(RejectReason reason) {
    delivery.whenDurable(() -> metrics.frameRejected(reason.wireName()));
  }

  /**
   * Sends a frame's output once its partition's earlier outputs are out, then {@code onSent} (with
   * where it went) and the frame is finished. Frames finish decoding and inference out of order;
   * sending in offset order per partition keeps each key's predictions in input order, and in
   * exactly-once mode it keeps a transaction from carrying an output whose offset it does not commit
   * (an earlier frame still in flight), which a crash would turn into a duplicate. Where the
   * partition is revoked before the output goes out (exactly-once; a send can wait while a
   * transaction commits), nothing is sent and the frame is {@linkplain #dropped dropped}.
   */
  private void output(
      Frame frame,
      Map<TopicPartition, Outbox> outboxes,
      Supplier<Future<RecordMetadata>> send,
      Consumer<RecordMetadata> onSent) {
    Supplier<Future<RecordMetadata>> unlessRevoked =
        () -> frame.tracker().isRevoked() ? Future.succeededFuture(null) : send.get();
    frame.tracker().release(
        frame.record().offset(),
        () -> send(frame, outboxes, unlessRevoked).onSuccess(meta -> {
          if (meta == null) {
            dropped(frame);
            return;
          }
          onSent.accept(meta);
          finish(frame);
        }),
        () -> dropped(frame));
  }

  /** The dead letter, or {@linkplain #unlessTooLarge where refused as too large} the same without the frame. */
  private Future<RecordMetadata> deadLetterOrWithoutValue(Frame frame, RejectReason reason, String error) {
    return unlessTooLarge(publisher.deadLetter(frame, reason, error), e -> {
      LOG.warn("Frame {}: the dead letter was refused as too large ({}); sending it without the frame's bytes",
          frame.source(), e.toString());
      return withoutValueOrFrame(frame, reason, error, "refused as too large: " + e.getMessage());
    });
  }

  /**
   * The dead letter without the frame's value, or {@linkplain #unlessTooLarge where that is refused
   * as too large} without its headers too: the frame's headers can be as large as its value.
   */
  private Future<RecordMetadata> withoutValueOrFrame(Frame frame, RejectReason reason, String error, String why) {
    return unlessTooLarge(publisher.deadLetterWithoutValue(frame, reason, error, why), e -> {
      LOG.warn("Frame {}: the dead letter without the frame's bytes was refused as too large ({}); sending it"
          + " without the frame's headers too", frame.source(), e.toString());
      return publisher.deadLetterWithoutFrame(frame, reason, error, why + "; then without the value: " + e.getMessage());
    });
  }

  /**
   * The send, or where its topic refuses it as too large (over its {@code max.message.bytes}, which
   * at-least-once mode meets only here) {@code instead}: no retry could send it, and its partition's
   * later outputs of its kind would wait behind it for good. Not in exactly-once mode, where the
   * refusal has doomed the transaction: the restart reads the topics' limits and sends nothing over
   * them.
   */
  private Future<RecordMetadata> unlessTooLarge(
      Future<RecordMetadata> send, Function<Throwable, Future<RecordMetadata>> instead) {
    return send.recover(e -> settings.exactlyOnce() || !isTooLarge(e) ? Future.failedFuture(e) : instead.apply(e));
  }

  private static boolean isTooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RecordTooLargeException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Sends until the broker takes it. The producer already retries within its delivery timeout, so
   * a failure here means the broker is away or refuses the record: the frame stays in flight (its
   * offset uncommitted), its partition's {@link Outbox} sends it again, the partition's later
   * outputs of its kind (predictions, or dead letters) waiting behind it, and backpressure holds the
   * consumer meanwhile; readiness is down until it goes ({@link OutboxReadiness}). In a transaction
   * a failed send dooms the transaction, so exactly-once mode stops instead (see {@link #fail}).
   */
  private Future<RecordMetadata> send(
      Frame frame, Map<TopicPartition, Outbox> outboxes, Supplier<Future<RecordMetadata>> send) {
    if (settings.exactlyOnce()) {
      return delivery.send(send).onFailure(e -> fail("a transactional send failed: " + e));
    }
    ConsumerRecord<byte[], byte[]> record = frame.record();
    return outboxes
        .computeIfAbsent(
            new TopicPartition(record.topic(), record.partition()), tp -> new Outbox(vertx, outboxReadiness))
        .send(() -> delivery.send(send));
  }

  /**
   * Stops consuming for good, leaves the group and reports the pipeline dead, so that the
   * orchestrator restarts it; the restart resumes from the last committed offsets.
   */
  private void fail(String why) {
    if (!health.isLive()) {
      return;
    }
    LOG.error("Pipeline failed, restart required: {}", why);
    health.setLive(false);
    // Not ready either: until the process exits, its readiness kept its last checks (up).
    health.set("running", false);
    stopping = true;
    consumer.pause();
    vertx.cancelTimer(connectionTimer);
    // Exactly-once: nothing sent from now on is committed, and the open transaction is aborted. Then
    // the consumer leaves the group, so that its partitions go to the replicas that work now, not
    // after the restart (a consumer that stopped polling keeps them for max.poll.interval.ms).
    failed = delivery.abandon().transform(ar -> {
      closing = true;
      committer.consumerClosing();
      return closeConsumer();
    });
    if (drained != null && drained.tryComplete()) {
      // Failed while draining: the frames in flight can no longer commit, and would keep the drain
      // waiting out shutdown.timeout.ms. The stop goes on to fail's abort and leave.
      LOG.info("Drain ended by the failure: its {} frames in flight will be consumed again", inFlight);
    }
  }

  private void finish(Frame frame) {
    if (frame.tracker().finished(frame.record().offset())) {
      committer.commit();
    }
    leftInFlight(frame);
  }

  /**
   * A frame whose partition was revoked before its output went out (or before it was decoded or
   * run): nothing is sent and its offset is not committed, so the partition's next owner reads it
   * again. Its pixels, where it has any, go back to the pool.
   */
  private void dropped(Frame frame) {
    LOG.debug("Frame {}: partition revoked, left to its next owner", frame.source());
    frame.releasePixels();
    leftInFlight(frame);
  }

  private void leftInFlight(Frame frame) {
    inFlight--;
    inFlightBytes -= encodedBytes(frame);
    resumeIfBelowHalf();
    finishDrainIfIdle();
  }

  private void resumeIfBelowHalf() {
    if (paused && !stopping && backlog() <= settings.maxInFlight() / 2
        && inFlightBytes <= settings.maxInFlightBytes() / 2) {
      resumeConsuming();
    }
  }

  /**
   * What the in-flight bound counts: the frames not finished yet, or, where more, the assigned
   * partitions' frames whose offsets cannot be committed yet (a finished frame behind an unfinished
   * one waits for it). Those are what a restart reads again, and what the offset trackers hold.
   */
  private int backlog() {
    return Math.max(inFlight, committer.uncommitted());
  }

  private static int encodedBytes(Frame frame) {
    byte[] value = frame.record().value();
    return value == null ? 0 : value.length;
  }

  private void finishDrainIfIdle() {
    if (stopping && inFlight == 0 && drained != null) {
      drained.tryComplete();
    }
  }
}
