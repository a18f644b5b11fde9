package dev.gapstream.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Checks Kafka client settings as the client checks them when it is made: each value against its
 * type and allowed range, and a consumer's settings against each other. A value that a config
 * provider resolves ({@code ${file:...}}) is the client's to check once it is resolved.
 */
public final class KafkaClientValues {

  /**
   * The least {@code max.request.size} gapstream takes: a dead letter's room for the frame's key and
   * headers, the reason and the error. Below it a dead letter, even without the frame, could be
   * refused for good, and the partition's later dead letters would wait behind it for ever.
   */
  public static final long MIN_REQUEST_BYTES = 64 << 10;

  /**
   * Settings whose value is a list of class names, which the client loads only when it is made: a
   * misspelt one failed the start after the broker and the model, in words naming no setting.
   */
  private static final Set<String> CLASS_LISTS = Set.of(
      ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, // the producer's has the same name
      CommonClientConfigs.METRIC_REPORTER_CLASSES_CONFIG,
      ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG);

  /**
   * What gapstream's producer is given before the {@code kafka.producer.*} settings: every output
   * acknowledged by all in-sync replicas, sends retried without duplicates, a short linger.
   */
  public static final Map<String, String> PRODUCER_DEFAULTS = Map.of(
      ProducerConfig.ACKS_CONFIG, "all",
      ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
      ProducerConfig.LINGER_MS_CONFIG, "2");

  private KafkaClientValues() {}

  /**
   * The problem the client would have with {@code value} for its setting {@code key}, in the
   * client's words ("Invalid value abc for configuration max.poll.records: Not a number of type
   * INT"), or null if none.
   */
  public static String problem(ConfigDef.ConfigKey key, String value) {
    if (isUnresolved(value)) {
      return null;
    }
    try {
      Object parsed = ConfigDef.parseType(key.name, value, key.type);
      if (key.validator != null) {
        key.validator.ensureValid(key.name, parsed);
      }
      return CLASS_LISTS.contains(key.name) ? classListProblem(key.name, (List<?>) parsed) : null;
    } catch (org.apache.kafka.common.config.ConfigException e) {
      return e.getMessage();
    }
  }

  /** {@code value} as an error message may show it: a password's is hidden. */
  public static String shown(ConfigDef.ConfigKey key, String value) {
    return key.type == ConfigDef.Type.PASSWORD ? "[hidden]" : value;
  }

  /**
   * The problem the consumer would have with {@code settings} together (such as {@code
   * session.timeout.ms} with {@code group.protocol=consumer}), in its words, or null if none. Call
   * it once each value passed {@link #problem}. Settings that config providers resolve are not
   * checked together: resolving them would read their secrets.
   */
  public static String consumerProblem(Map<String, String> settings) {
    if (resolvedByProviders(settings)) {
      return null;
    }
    Map<String, Object> all = new HashMap<>(settings);
    // Required, and gapstream's own to set (kafka.bootstrap.servers): any address stands in here.
    all.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
    all.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    all.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    try {
      new QuietConsumerConfig(all);
      return null;
    } catch (org.apache.kafka.common.config.ConfigException e) {
      return e.getMessage();
    }
  }

  private static String classListProblem(String name, List<?> classes) {
    if (classes.isEmpty() && name.equals(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)) {
      return "no assignor; name at least one, or leave it unset for the consumer's default";
    }
    for (Object c : classes) {
      try {
        Class.forName(c.toString(), false, KafkaClientValues.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        return "class " + c + " is not on the class path";
      }
    }
    return null;
  }

  /**
   * The problem the producer would have with {@code settings} together (such as {@code retries=0}
   * with the idempotence gapstream keeps, or a {@code delivery.timeout.ms} below {@code linger.ms} +
   * {@code request.timeout.ms}), in its words, or null if none; and a {@code max.request.size} below
   * {@link #MIN_REQUEST_BYTES}. Call it once each value passed {@link #problem}.
   */
  public static String producerProblem(Map<String, String> settings) {
    if (resolvedByProviders(settings)) {
      return null;
    }
    Map<String, Object> all = new HashMap<>(PRODUCER_DEFAULTS);
    all.putAll(settings);
    all.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
    all.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    all.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    ProducerConfig producer;
    try {
      producer = new ProducerConfig(all); // its INFO list of every setting: off (logback.xml)
    } catch (org.apache.kafka.common.config.ConfigException e) {
      return e.getMessage();
    }
    long delivery = number(producer, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
    long linger = number(producer, ProducerConfig.LINGER_MS_CONFIG);
    long request = number(producer, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG);
    // The producer raises an unset delivery.timeout.ms itself; one set too low it refuses.
    if (settings.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG) && delivery < linger + request) {
      return String.format(
          "delivery.timeout.ms (%d) must be at least linger.ms + request.timeout.ms (%d + %d)", delivery, linger, request);
    }
    long maxRequest = number(producer, ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    if (maxRequest < MIN_REQUEST_BYTES) {
      return String.format(
          "max.request.size (%d) must be at least %d (64 KiB): a dead letter needs that room for the frame's key"
              + " and headers, its reason and its error, and one refused would hold up its partition's for good",
          maxRequest, MIN_REQUEST_BYTES);
    }
    return null;
  }

  private static long number(ProducerConfig config, String name) {
    return ((Number) config.values().get(name)).longValue();
  }

  /** Whether config providers give some of {@code settings}: checking them together would read their secrets. */
  private static boolean resolvedByProviders(Map<String, String> settings) {
    return settings.keySet().stream().anyMatch(k -> k.startsWith("config.providers"))
        || settings.values().stream().anyMatch(KafkaClientValues::isUnresolved);
  }

  private static boolean isUnresolved(String value) {
    return value != null && value.contains("${");
  }

  /** The consumer's own checks, without the list of every setting it logs when a client is made. */
  private static final class QuietConsumerConfig extends ConsumerConfig {
    QuietConsumerConfig(Map<String, Object> settings) {
      super(settings, false);
    }
  }
}
