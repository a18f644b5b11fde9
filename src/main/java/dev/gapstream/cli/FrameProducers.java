package dev.gapstream.cli;

import dev.gapstream.GapstreamException;
import dev.gapstream.pipeline.GapstreamService;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Settings of the commands' own producers of frames ({@code produce}, {@code replay}). */
final class FrameProducers {

  /**
   * How long a command's producer waits for a topic's metadata ({@code max.block.ms}; Kafka's
   * default is a minute, and it applies to every send): a mistyped broker or a missing topic is
   * reported after this, not after a minute per frame.
   */
  static final Duration TOPIC_WAIT = Duration.ofSeconds(15);

  private FrameProducers() {}

  /**
   * Fails at once, saying why, when {@code topic} cannot be written: the brokers do not answer, or
   * the topic does not exist ({@code option} names where it came from). Before anything is sent:
   * exit 2, as {@code load} and {@code replay --from} refuse a topic that does not exist.
   */
  static void requireTopic(KafkaProducer<byte[], byte[]> producer, String topic, String option) {
    try {
      producer.partitionsFor(topic);
    } catch (KafkaException e) {
      throw new GapstreamException(
          option + ": cannot send to topic '" + topic + "' (does it exist, and do the brokers answer?): "
              + e.getMessage(), e);
    }
  }

  /** Keeps the first failure of a command's sends, to say why they failed. */
  static void keepFirst(AtomicReference<Exception> first, Exception e) {
    if (e != null) {
      first.compareAndSet(null, e);
    }
  }

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
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(TOPIC_WAIT.toMillis()));
    p.putAll(client);
    // The service's transactional id (kafka.producer.transactional.id, replay with its
    // configuration) would make this producer transactional, which it is not.
    p.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    return p;
  }
}
