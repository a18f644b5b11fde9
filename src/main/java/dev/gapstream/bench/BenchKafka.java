package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.kafka.EmbeddedKafka;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The embedded broker the Kafka stages share, and what they do with it: fresh topics per run (so
 * no run reads another's records), frames pre-loaded into a topic, and a pipeline started on given
 * topics. Frames carry {@code frame-id} {@code bench-<i>} (in latency runs {@code
 * bench-run<n>-<i>}) and keys {@code camera-<i mod 8>}.
 */
final class BenchKafka implements AutoCloseable {

  /** The three topics of one run. */
  record Topics(String frames, String predictions, String dlq) {}

  private final EmbeddedKafka broker;
  /** Ctrl-C in a run of half an hour: the broker's data directory (often hundreds of MB) goes too. */
  private final Thread onExit;
  private final int partitions;
  private int runs;

  BenchKafka(int partitions) {
    // Kafka's default, a 1 MB record batch, refused a 1280x720 PNG frame (2.2 MB) while pre-loading.
    this.broker = EmbeddedKafka.builder()
        .brokerProperty("message.max.bytes", String.valueOf(OpenLoopSender.MAX_RECORD_BYTES))
        .start();
    this.onExit = new Thread(broker::close, "bench-kafka-cleanup");
    Runtime.getRuntime().addShutdownHook(onExit);
    this.partitions = partitions;
  }

  String bootstrapServers() {
    return broker.bootstrapServers();
  }

  Topics newTopics(String name) {
    String prefix = "bench-" + (++runs) + "-" + name + "-";
    Topics t = new Topics(prefix + "frames", prefix + "predictions", prefix + "dlq");
    broker.createTopic(t.frames(), partitions);
    // A prediction's timestamp is when the broker appended it, not when the pipeline called send():
    // the latency runs' end point then includes the producer's linger and the request to the broker.
    broker.createTopic(t.predictions(), partitions, Map.of("message.timestamp.type", "LogAppendTime"));
    broker.createTopic(t.dlq(), 1);
    return t;
  }

  KafkaProducer<byte[], byte[]> producer() {
    return OpenLoopSender.producer(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  /**
   * The frame ids of the benchmark's own runs: {@code bench-<i>}, and {@code bench-run<n>-<i>} in
   * latency run n on one service.
   */
  static final String FRAME_ID_PREFIX = "bench-";

  /**
   * Frame {@code i} as a record with {@code frame-id} {@code <idPrefix><i>}, stamped {@code
   * timestampMs} (null: now).
   */
  static ProducerRecord<byte[], byte[]> record(
      String topic, String idPrefix, int i, EncodedFrame frame, Long timestampMs) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, null, timestampMs, Workload.bytes("camera-" + (i % 8)), frame.data());
    r.headers().add("frame-id", Workload.bytes(idPrefix + i));
    r.headers().add("content-type", Workload.bytes(frame.contentType()));
    return r;
  }

  /** Writes every frame to {@code topic} and waits until the broker has them all. */
  void preload(String topic, List<EncodedFrame> frames) {
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      Future<RecordMetadata> last = null;
      for (int i = 0; i < frames.size(); i++) {
        last = producer.send(record(topic, FRAME_ID_PREFIX, i, frames.get(i), null));
      }
      producer.flush();
      if (last != null) {
        last.get();
      }
    } catch (ExecutionException e) {
      throw new GapstreamException("pre-loading " + topic + " failed: " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GapstreamException("interrupted while pre-loading " + topic, e);
    }
  }

  /**
   * The workload's configuration with {@code overrides} set over it, pointed at this broker and
   * these topics, CAMs on or off.
   */
  GapstreamConfig pipelineConfig(Workload workload, Topics topics, boolean cam, Map<String, String> overrides) {
    Map<String, String> over = new HashMap<>(workload.config().properties());
    over.putAll(overrides);
    over.put(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS, broker.bootstrapServers());
    over.put(ConfigKeys.KAFKA_GROUP_ID, topics.frames() + "-group");
    over.put(ConfigKeys.TOPICS_FRAMES, topics.frames());
    over.put(ConfigKeys.TOPICS_PREDICTIONS, topics.predictions());
    over.put(ConfigKeys.TOPICS_DLQ, topics.dlq());
    over.put(ConfigKeys.HTTP_PORT, "0");
    over.put(ConfigKeys.CAM_ENABLED, String.valueOf(cam));
    if (!cam) {
      over.put(ConfigKeys.CAM_HEATMAP, "false"); // nothing to draw it from
    }
    return ConfigLoader.builder().set(over).load();
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(onExit);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook closes the broker
    }
    broker.close();
  }
}
