package dev.gapstream.cli;

import dev.gapstream.GapstreamException;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.KafkaClientValues;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.ClientDnsLookup;
import org.apache.kafka.clients.ClientUtils;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine.Option;

/** Where a command's own Kafka clients connect: {@code -b} and {@code -X} (security settings). */
final class KafkaClientOptions {

  @Option(names = {"-b", "--bootstrap-servers"}, required = true, description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = {"-X", "--property"},
      paramLabel = "KEY=VALUE",
      description = "A Kafka client property (repeatable), e.g."
          + " -X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512.")
  Map<String, String> properties = new LinkedHashMap<>();

  /** The {@code -X} properties with {@code bootstrap.servers}, checked by {@link #check}. */
  Map<String, String> client() {
    check(bootstrapServers, properties);
    Map<String, String> client = new LinkedHashMap<>(properties);
    client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return client;
  }

  /**
   * Refuses, naming {@code -b} or {@code -X}, what the Kafka client would refuse or pass over: a
   * broker address that does not parse or resolve, a setting no client has (the client logs a
   * misspelt one as unused and goes on without it), a value of the wrong type or range. Before,
   * a typo in {@code -X delivery.timout.ms} was dropped unsaid, and a bad address or value came
   * back as "Failed to construct kafka producer".
   *
   * @throws GapstreamException (exit 2) naming the option
   */
  static void check(String bootstrapServers, Map<String, String> properties) {
    check(properties);
    try {
      // Split as the client splits it ("a:9092, b:9092" too)
      @SuppressWarnings("unchecked")
      List<String> servers = (List<String>) ConfigDef.parseType(
          CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ConfigDef.Type.LIST);
      String resolveTimeout = properties.get(CommonClientConfigs.BOOTSTRAP_RESOLVE_TIMEOUT_MS_CONFIG);
      if (resolveTimeout != null && Long.parseLong(resolveTimeout.strip()) > 0) {
        // The client waits that long for the names to resolve: only their form is checked here.
        for (String server : servers) {
          if (Utils.getHost(server) == null || Utils.getPort(server) == null) {
            throw new ConfigException("Invalid url in bootstrap.servers: " + server);
          }
        }
      } else {
        ClientUtils.parseAndValidateAddresses(servers, ClientDnsLookup.USE_ALL_DNS_IPS);
      }
    } catch (ConfigException e) {
      throw new GapstreamException("-b " + bootstrapServers + ": " + e.getMessage());
    }
  }

  /** The {@code -X} half of {@link #check(String, Map)}. */
  static void check(Map<String, String> properties) {
    Map<String, ConfigDef.ConfigKey> keys = new HashMap<>(ConsumerConfig.configDef().configKeys());
    keys.putAll(ProducerConfig.configDef().configKeys());
    properties.forEach((name, value) -> {
      if (!ConfigLoader.isClientSetting(name, keys.keySet())) {
        throw new GapstreamException(
            "-X " + name + ": no Kafka client has this setting" + ConfigLoader.suggestion(name, keys.keySet()));
      }
      ConfigDef.ConfigKey key = keys.get(name); // null for a config provider's own setting
      String problem = key == null ? null : KafkaClientValues.problem(key, value);
      if (problem != null) {
        throw new GapstreamException("-X " + name + "=" + KafkaClientValues.shown(key, value) + ": " + problem);
      }
    });
  }
}
