package dev.gapstream.pipeline;

import dev.gapstream.batch.BatchPolicy;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;

/**
 * What the pipeline verticle needs to know, derived from the validated configuration.
 *
 * @param consumerConfig native Kafka consumer properties (bootstrap, group, pass-through settings)
 * @param producerConfig native Kafka producer properties
 * @param deadLetterPayloadBytes the largest frame a dead letter carries whole: larger ones go
 *     without their bytes (their own topic keeps them), so that no dead letter is larger than the
 *     producer sends; lowered at start-up to what the dead-letter topic takes ({@link OutputLimit})
 * @param maxInFlight frames consumed and not yet committable (unfinished, or finished behind an unfinished
 *     one); the consumer pauses at this bound and resumes at half of it
 * @param maxInFlightBytes encoded bytes of the unfinished frames; the consumer pauses at this bound
 *     too, and resumes once below half of both
 * @param maxFrameAge the oldest a frame may be when its turn to decode comes; zero for no limit
 * @param decodeThreads size of the decode worker pool
 * @param inferenceConcurrency batches run at once on the inference worker pool
 * @param exactlyOnce publish and commit in Kafka transactions
 * @param commitInterval least time between offset (or transaction) commits
 * @param drainTimeout how long a graceful stop waits for frames in flight
 * @see #decodeAhead()
 * @see #decodeAheadPixels()
 */
public record PipelineSettings(
    Map<String, String> consumerConfig,
    Map<String, String> producerConfig,
    String framesTopic,
    String predictionsTopic,
    String deadLetterTopic,
    int deadLetterPayloadBytes,
    BatchPolicy batchPolicy,
    int maxInFlight,
    long maxInFlightBytes,
    Duration maxFrameAge,
    int decodeThreads,
    int inferenceConcurrency,
    boolean exactlyOnce,
    Duration commitInterval,
    Duration drainTimeout) {

  /** The longest a rebalance waits for a hand-over, however long the group lets it. */
  static final Duration HAND_OVER_WAIT_MAX = Duration.ofSeconds(30);

  public PipelineSettings {
    consumerConfig = Map.copyOf(consumerConfig);
    producerConfig = Map.copyOf(producerConfig);
  }

  /**
   * How long a rebalance waits, on the polling thread, for the hand-over of the partitions it
   * revokes: the event loop's answer, and the commit of their offsets (exactly-once: of the open
   * transaction). 30 s, or half the group's rebalance timeout ({@code max.poll.interval.ms}) where
   * that is shorter: the group puts out a member that holds its rebalance up past that timeout.
   *
   * <p>Read as the consumer reads its settings, config providers and all: a value a provider gives
   * ({@code ${file:...}}) failed the start as "not a number".
   *
   * @throws org.apache.kafka.common.config.ConfigException where the consumer would refuse it
   */
  public Duration handOverWait() {
    int interval = new AbstractConfig(ConsumerConfig.configDef(), consumerConfig, false)
        .getInt(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
    Duration half = Duration.ofMillis(interval / 2);
    return half.compareTo(HAND_OVER_WAIT_MAX) < 0 ? half : HAND_OVER_WAIT_MAX;
  }

  /**
   * The producer's {@code max.block.ms}, the longest a lookup of a topic the cluster lacks waits,
   * read as the producer reads its settings, config providers and all: a value a provider gives
   * failed the start with a bare NumberFormatException.
   *
   * @throws org.apache.kafka.common.config.ConfigException where the producer would refuse it
   */
  public long producerMaxBlockMs() {
    return producerSettings().getLong(ProducerConfig.MAX_BLOCK_MS_CONFIG);
  }

  /**
   * The producer's {@code max.request.size}, read the same way: a provider's value made every
   * lookup of the output topics fail ("For input string"), and the replica never consumed.
   */
  public int producerMaxRequestSize() {
    return producerSettings().getInt(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
  }

  private AbstractConfig producerSettings() {
    return new AbstractConfig(ProducerConfig.configDef(), producerConfig, false);
  }

  /**
   * Frames decoded ahead of the model at most, counting those being decoded: a full batch for each
   * run at once and one more. Decoding takes a fraction of a batch's run, so that keeps every free
   * run supplied, while the decoded pixels held stay a few batches' worth whatever the backlog.
   */
  public int decodeAhead() {
    return batchPolicy.maxSize() * (inferenceConcurrency + 1);
  }

  /**
   * Decoded pixels waiting for their batch at most, before more frames are handed to the decoders:
   * as many full batches as {@link #decodeAhead()} counts, by {@code batch.max.pixels}, so that
   * large frames are decoded only a few batches ahead too.
   */
  public long decodeAheadPixels() {
    long batches = inferenceConcurrency + 1L;
    return batchPolicy.maxPixels() > Long.MAX_VALUE / batches
        ? Long.MAX_VALUE
        : batchPolicy.maxPixels() * batches;
  }

  /**
   * Frames handed to the decode pool and not yet back, at most: enough to keep every decode thread
   * busy between two turns of the event loop, without queueing a backlog's pixels in the pool.
   */
  public int decodeQueue() {
    return 2 * decodeThreads;
  }
}
