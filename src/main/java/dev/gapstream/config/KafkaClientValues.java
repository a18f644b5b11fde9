package dev.gapstream.config;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Checks Kafka client settings as the client checks them when it is made: each value against its
 * type and allowed range, and a consumer's settings against each other. A value that a config
 * provider resolves ({@code ${file:...}}) is the client's to check once it is resolved.
 */
public final class KafkaClientValues {

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
      return null;
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
    if (settings.keySet().stream().anyMatch(k -> k.startsWith("config.providers"))
        || settings.values().stream().anyMatch(KafkaClientValues::isUnresolved)) {
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
