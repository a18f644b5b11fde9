package dev.gapstream.cli;

import dev.gapstream.pipeline.GapstreamService;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Settings of the commands' own producers of frames ({@code produce}, {@code replay}). */
final class FrameProducers {

  private FrameProducers() {}

  /**
   * A producer of frames of up to {@code maxFrameBytes} (Kafka's default request is 1 MiB) that
   * waits for every in-sync replica and never duplicates on retry; {@code client} (brokers,
   * security, any override) on top.
   */
  static Properties config(long maxFrameBytes, Map<String, String> client) {
    Properties p = new Properties();
    p.putAll(GapstreamService.frameSizedRequests((int) Math.min(maxFrameBytes, Integer.MAX_VALUE / 2)));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.putAll(client);
    return p;
  }
}
