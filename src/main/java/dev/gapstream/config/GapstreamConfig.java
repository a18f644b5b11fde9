package dev.gapstream.config;

import dev.gapstream.batch.BatchPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * gapstream's whole configuration, validated and immutable; build it with {@link ConfigLoader}.
 * Every field is non-null; pass-through maps and {@link #properties()} are unmodifiable. Safe to
 * share between threads.
 *
 * @param liveViewEnabled whether the management port serves the live view ({@code
 *     http.live.enabled})
 * @param properties every effective key and value as strings, sorted by key (for logging: see
 *     {@link #redactedView()})
 */
public record GapstreamConfig(
    KafkaSettings kafka,
    Topics topics,
    Batch batch,
    Inference inference,
    Ingest ingest,
    Cam cam,
    Predictions predictions,
    DeliveryGuarantee deliveryGuarantee,
    long commitIntervalMs,
    int httpPort,
    boolean liveViewEnabled,
    long shutdownTimeoutMs,
    SortedMap<String, String> properties) {

  /**
   * Kafka connection settings.
   *
   * @param bootstrapServers brokers, or empty to start the embedded broker
   * @param consumer extra consumer properties (prefix {@code kafka.consumer.} removed)
   * @param producer extra producer properties (prefix {@code kafka.producer.} removed)
   */
  public record KafkaSettings(
      String bootstrapServers,
      String groupId,
      Map<String, String> consumer,
      Map<String, String> producer,
      Embedded embedded) {
    public KafkaSettings {
      consumer = Map.copyOf(consumer);
      producer = Map.copyOf(producer);
    }

    /** Settings with a default embedded broker (temporary directory, free port, 4 partitions). */
    public KafkaSettings(
        String bootstrapServers,
        String groupId,
        Map<String, String> consumer,
        Map<String, String> producer) {
      this(bootstrapServers, groupId, consumer, producer, new Embedded(null, 0, 4));
    }

    /** Whether gapstream must start its own broker. */
    public boolean useEmbedded() {
      return bootstrapServers.isBlank();
    }
  }

  /**
   * The embedded broker, used only when no bootstrap servers are configured.
   *
   * @param dataDir log directory, or {@code null} for a temporary one
   * @param port client port, 0 for a free one
   * @param partitions partitions of the topics gapstream creates there
   */
  public record Embedded(Path dataDir, int port, int partitions) {}

  /** Topic names: input frames, output predictions, dead letters. */
  public record Topics(String frames, String predictions, String dlq) {}

  /**
   * Batch closing policy: at {@code maxSize} frames, at the most frames of their size that fit in
   * {@code maxPixels}, or after {@code maxDelayMs}, first wins.
   *
   * @param calibrate whether the service measures the model's fastest batch size at start-up and
   *     lowers {@code maxPixels} to it (see {@code BatchCalibration})
   * @param runMaxPixels the most pixels of a batch one run of the model takes; 0 for what calibration
   *     chooses, or the whole batch where it does not run
   */
  public record Batch(int maxSize, long maxPixels, long maxDelayMs, boolean calibrate, long runMaxPixels) {
    public BatchPolicy policy() {
      return new BatchPolicy(
          maxSize,
          maxPixels,
          TimeUnit.MILLISECONDS.toNanos(maxDelayMs),
          runMaxPixels > 0 ? runMaxPixels : BatchPolicy.ANY_PIXELS);
    }
  }

  /**
   * @param modelPath absolute path of the ONNX model (existence is checked when it is loaded)
   * @param threads ONNX Runtime intra-op threads
   * @param concurrency batches in inference at once
   */
  public record Inference(
      Path modelPath, int threads, int concurrency, InferenceProvider provider) {

    /**
     * The model file, which must exist: checked by {@code run} before anything starts and by
     * {@code config}, which validates a configuration before it is deployed.
     *
     * @throws ConfigException naming the key when there is no such file
     */
    public Path existingModelFile() {
      if (!Files.isRegularFile(modelPath)) {
        throw new ConfigException(ConfigKeys.INFERENCE_MODEL_PATH + "=" + modelPath + ": no such model file");
      }
      return modelPath;
    }
  }

  /**
   * Ingest bounds.
   *
   * @param maxInFlight frames consumed and not yet committable (unfinished, or finished behind one)
   * @param maxFrameBytes largest encoded frame, bytes
   * @param maxPixels largest decoded width times height
   * @param decodeThreads worker threads for decoding
   * @param pixelPoolBytes decoded pixel arrays kept for reuse, bytes
   * @param resizeMaxSide longest side a frame is classified at; 0 for its own size, -1 for the
   *     model's {@code maxSide}
   * @param maxFrameAgeMs oldest a frame may be when its turn to decode comes, 0 for no limit
   */
  public record Ingest(
      int maxInFlight,
      long maxInFlightBytes,
      int maxFrameBytes,
      long maxPixels,
      int decodeThreads,
      long pixelPoolBytes,
      int resizeMaxSide,
      long maxFrameAgeMs) {}

  /** Class activation maps: whether to publish the peak/box, and the full heatmap. */
  public record Cam(boolean enabled, boolean heatmap) {}

  /** Prediction content: {@code topK} classes per frame. */
  public record Predictions(int topK) {}

  public GapstreamConfig {
    properties = Collections.unmodifiableSortedMap(new TreeMap<>(properties));
  }

  /** The configuration with every default and nothing else (no file, no environment). */
  public static GapstreamConfig defaults() {
    return ConfigLoader.builder().load();
  }

  /**
   * Sorted {@code key=value} lines, one per key, with secrets replaced by {@code [redacted]}: safe
   * to log at start-up.
   */
  public String redactedView() {
    return properties.entrySet().stream()
        .map(e -> e.getKey() + "=" + (isSecret(e.getKey()) ? "[redacted]" : e.getValue()))
        .collect(Collectors.joining("\n"));
  }

  /**
   * Whether a key's value must never be logged: passwords, secrets, tokens, JAAS configs (which
   * embed passwords) and key or store passwords.
   */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("password")
        || k.contains("secret")
        || k.contains("token")
        || k.contains("sasl.jaas.config")
        || k.contains("credential")
        || k.endsWith(".key")
        || k.contains("private");
  }
}
