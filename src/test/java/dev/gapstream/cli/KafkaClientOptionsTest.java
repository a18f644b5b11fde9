package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.GapstreamException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code -b} and {@code -X} checked as the Kafka client reads them, before one is made. */
class KafkaClientOptionsTest {

  @Test
  void serversAreSplitAsTheClientSplitsThem() {
    assertThatCode(() -> KafkaClientOptions.check("127.0.0.1:9092, 127.0.0.1:9093 ,[::1]:9094", Map.of()))
        .doesNotThrowAnyException();
  }

  @Test
  void aNameThatDoesNotResolveIsRefusedUnlessTheClientIsToWaitForIt() {
    assertThatThrownBy(() -> KafkaClientOptions.check("no-such-host.invalid:9092", Map.of()))
        .isInstanceOf(GapstreamException.class)
        .hasMessageStartingWith("-b no-such-host.invalid:9092: No resolvable bootstrap urls");
    assertThatCode(() -> KafkaClientOptions.check(
            "no-such-host.invalid:9092", Map.of("bootstrap.resolve.timeout.ms", "10000")))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> KafkaClientOptions.check("broker", Map.of("bootstrap.resolve.timeout.ms", "10000")))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("-b broker: Invalid url in bootstrap.servers: broker");
  }

  @Test
  void settingsAreTheClientsOwnAndOfTheirType() {
    assertThatThrownBy(() -> KafkaClientOptions.check(Map.of("delivery.timout.ms", "100")))
        .hasMessage("-X delivery.timout.ms: no Kafka client has this setting; did you mean delivery.timeout.ms?");
    assertThatThrownBy(() -> KafkaClientOptions.check(Map.of("acks", "most")))
        .hasMessageStartingWith("-X acks=most: Invalid value most");
    assertThatCode(() -> KafkaClientOptions.check(Map.of(
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "SCRAM-SHA-512",
            "sasl.jaas.config", "${file:/etc/kafka/jaas.properties:config}",
            "config.providers", "file",
            "config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider",
            "max.partition.fetch.bytes", "1",
            "linger.ms", "5")))
        .doesNotThrowAnyException();
  }
}
