package dev.gapstream.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
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

  /** The {@code -X} properties with {@code bootstrap.servers}. */
  Map<String, String> client() {
    Map<String, String> client = new LinkedHashMap<>(properties);
    client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return client;
  }
}
