package dev.gapstream.pipeline;

import dev.gapstream.config.ConfigKeys;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The most bytes a prediction's record may take: the producer's {@code max.request.size}, and the
 * predictions topic's {@code max.message.bytes} where it could be read. A prediction over it goes to
 * the dead-letter topic instead ({@code too-large}): no retry could send it, in exactly-once mode
 * its refusal would doom the transaction (and the restart would meet it again), and in
 * at-least-once mode its partition's later predictions would wait behind it for good.
 *
 * <p>Both are checked against the record uncompressed. The broker counts a batch as sent: where the
 * producer compresses, a prediction a little over the topic's limit might have gone compressed, and
 * is dead-lettered all the same, which keeps an exactly-once pipeline from a refusal it would meet
 * again on every restart.
 *
 * @param bytes the limit
 * @param what where it comes from, for the dead letter's error
 */
record PredictionLimit(long bytes, String what) {

  private static final Logger LOG = LoggerFactory.getLogger(PredictionLimit.class);
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

  /** The producer's {@code max.request.size} alone. */
  static PredictionLimit ofProducer(Map<String, String> producerConfig) {
    return new PredictionLimit(
        Long.parseLong(producerConfig.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG).trim()),
        ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
  }

  /**
   * Runs on a worker: this limit, lowered to the topic's {@code max.message.bytes} where that is
   * lower. Reading it takes the principal's {@code
   * DESCRIBE_CONFIGS} on the topic; where that fails, the broker's refusal is what finds a
   * prediction too large.
   */
  PredictionLimit withTopic(Map<String, String> producerConfig, String topic) {
    OptionalLong topicLimit;
    try {
      topicLimit = maxMessageBytes(producerConfig, topic);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      LOG.warn(
          "Cannot read the {} of topic '{}' ({}): predictions are checked against {} bytes ({}) only, and one"
              + " the topic refuses as too large is dead-lettered in at-least-once mode; in exactly-once"
              + " mode it stops the pipeline",
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG, topic, cause, bytes, what);
      return this;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return this;
    }
    if (topicLimit.isEmpty() || topicLimit.getAsLong() >= bytes) {
      return this;
    }
    return new PredictionLimit(
        topicLimit.getAsLong(), TopicConfig.MAX_MESSAGE_BYTES_CONFIG + " of topic '" + topic + "'");
  }

  private static OptionalLong maxMessageBytes(Map<String, String> producerConfig, String topic)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<String, Object> adminConfig = new HashMap<>();
    producerConfig.forEach((key, value) -> {
      if (AdminClientConfig.configNames().contains(key)) {
        adminConfig.put(key, value);
      }
    });
    adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, "gapstream-topic-limits");
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try (Admin admin = Admin.create(adminConfig)) {
      Config config = admin
          .describeConfigs(List.of(resource), new DescribeConfigsOptions().timeoutMs((int) LOOKUP_TIMEOUT.toMillis()))
          .all()
          .get(LOOKUP_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS)
          .get(resource);
      ConfigEntry entry = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
      return entry == null || entry.value() == null
          ? OptionalLong.empty()
          : OptionalLong.of(Long.parseLong(entry.value().trim()));
    }
  }

  /** The dead letter's error for a prediction of {@code predictionBytes} over this limit. */
  String describe(long predictionBytes) {
    return String.format(
        "its prediction takes up to %d bytes, over the %d that %s allows (predictions grow with %s and %s)",
        predictionBytes, bytes, what, ConfigKeys.CAM_HEATMAP, ConfigKeys.PREDICTIONS_TOP_K);
  }
}
