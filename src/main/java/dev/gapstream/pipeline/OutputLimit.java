package dev.gapstream.pipeline;

import dev.gapstream.config.ConfigKeys;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The most bytes one of the pipeline's records may take, and where that limit comes from: the
 * producer's {@code max.request.size}, and in exactly-once mode its topic's {@code
 * max.message.bytes} where that could be read at start-up. An output over it would be refused
 * whatever the retries: in exactly-once mode the refusal dooms the transaction (and every restart
 * would meet it again), in at-least-once mode its partition's later outputs would wait behind it for
 * good. So a prediction over it is dead-lettered instead ({@code too-large}), and a dead letter goes
 * without its frame's bytes; in at-least-once mode the same happens on a topic's refusal.
 *
 * <p>Records are counted uncompressed, as the producer counts them. The broker counts a batch as
 * sent: where the producer compresses, an output a little over the topic's limit might have gone
 * compressed, and is treated as too large all the same.
 *
 * @param bytes the limit
 * @param what where it comes from, for errors and logs
 */
record OutputLimit(long bytes, String what) {

  private static final Logger LOG = LoggerFactory.getLogger(OutputLimit.class);
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

  /** The producer's {@code max.request.size}, {@code bytes}. */
  static OutputLimit ofProducer(long bytes) {
    return new OutputLimit(bytes, ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
  }

  /** This limit, or the topic's {@code max.message.bytes} where that is known and lower. */
  OutputLimit orTopics(Map<String, Long> topicLimits, String topic) {
    Long topicLimit = topicLimits.get(topic);
    return topicLimit == null || topicLimit >= bytes
        ? this
        : new OutputLimit(topicLimit, TopicConfig.MAX_MESSAGE_BYTES_CONFIG + " of topic '" + topic + "'");
  }

  /** Says that a record of {@code recordBytes} is over this limit. */
  String describe(long recordBytes) {
    return String.format("takes up to %d bytes, over the %d that %s allows", recordBytes, bytes, what);
  }

  /**
   * An admin client's settings with the producer's principal: those of the producer's settings an
   * admin client takes (brokers, security), and {@code clientId}.
   */
  static Map<String, Object> adminConfig(Map<String, String> producerConfig, String clientId) {
    Map<String, Object> adminConfig = new HashMap<>();
    producerConfig.forEach((key, value) -> {
      if (AdminClientConfig.configNames().contains(key)) {
        adminConfig.put(key, value);
      }
    });
    adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
    return adminConfig;
  }

  /**
   * Runs on a worker: each topic's {@code max.message.bytes}, read with the producer's principal,
   * which takes {@code DESCRIBE_CONFIGS} on the topics. Where that fails: none, and a warning; the
   * broker's refusal then finds an output too large.
   */
  static Map<String, Long> readTopicLimits(Map<String, String> producerConfig, List<String> topics) {
    Map<String, Object> adminConfig = adminConfig(producerConfig, "gapstream-topic-limits");
    List<ConfigResource> resources =
        topics.stream().distinct().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
    Map<String, Long> limits = new HashMap<>();
    try (Admin admin = Admin.create(adminConfig)) {
      Map<ConfigResource, Config> configs = admin
          .describeConfigs(resources, new DescribeConfigsOptions().timeoutMs((int) LOOKUP_TIMEOUT.toMillis()))
          .all()
          .get(LOOKUP_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      configs.forEach((resource, config) -> {
        ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (entry != null && entry.value() != null) {
          limits.put(resource.name(), Long.parseLong(entry.value().trim()));
        }
      });
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      LOG.warn(
          "Cannot read the {} of topics {} ({}): outputs are checked against the producer's {} only,"
              + " and one a topic refuses as too large will stop the pipeline (exactly-once)",
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG, topics, cause, ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return limits;
  }
}
