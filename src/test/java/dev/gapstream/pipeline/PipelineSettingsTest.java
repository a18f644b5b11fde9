package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.testing.TestPipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The producer sends dead letters as large as the frames the pipeline takes, and no larger; a
 * rebalance waits for a hand-over no longer than the group lets it.
 */
class PipelineSettingsTest {

  /**
   * Keys of {@code kafka.<client>.*} whose values Kafka's FileConfigProvider reads from {@code
   * secrets}: setting to the name of its entry there.
   */
  static Map<String, String> fileProvided(String client, Path secrets, Map<String, String> settings) {
    Map<String, String> provided = new HashMap<>();
    provided.put("kafka." + client + ".config.providers", "file");
    provided.put("kafka." + client + ".config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider");
    settings.forEach((key, entry) -> provided.put("kafka." + client + "." + key, "${file:" + secrets + ":" + entry + "}"));
    return provided;
  }

  private static PipelineSettings settings(Map<String, String> overrides) {
    return GapstreamService.settings(TestPipelines.config(overrides), "localhost:9092");
  }

  @Test
  void theProducerTakesAFrameOfIngestMaxFrameBytesWithRoomForItsHeaders() {
    PipelineSettings s = settings(Map.of());
    assertThat(s.producerConfig()).containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf((8 << 20) + (64 << 10)));
    assertThat(s.producerConfig()).doesNotContainKey(ProducerConfig.BUFFER_MEMORY_CONFIG);
    assertThat(s.deadLetterPayloadBytes()).isEqualTo(8 << 20);
  }

  @Test
  void smallFramesKeepKafkasDefaultRequestSize() {
    PipelineSettings s = settings(Map.of("ingest.max.frame.bytes", "100000"));
    assertThat(s.producerConfig()).containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(1 << 20));
    assertThat(s.deadLetterPayloadBytes()).isEqualTo(100_000);
  }

  @Test
  void largeFramesGetABufferForTwoOfThem() {
    PipelineSettings s = settings(Map.of("ingest.max.frame.bytes", String.valueOf(64 << 20)));
    long request = (64L << 20) + (64 << 10);
    assertThat(s.producerConfig()).containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(request));
    assertThat(s.producerConfig()).containsEntry(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(2 * request));
  }

  @Test
  void aSmallerMaxRequestSizeSetByTheUserWinsAndDeadLettersLeaveLargerFramesOut() {
    PipelineSettings s = settings(Map.of("kafka.producer.max.request.size", "524288"));
    assertThat(s.producerConfig()).containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "524288");
    assertThat(s.deadLetterPayloadBytes()).isEqualTo(524_288 - (64 << 10));
  }

  @Test
  void aHandOverWaitsThirtySecondsOrHalfTheRebalanceTimeoutWhereThatIsLess() {
    assertThat(settings(Map.of()).handOverWait()).as("max.poll.interval.ms: 5 minutes").hasSeconds(30);
    assertThat(settings(Map.of("kafka.consumer.max.poll.interval.ms", "10000")).handOverWait()).hasMillis(5_000);
    assertThat(settings(Map.of("kafka.consumer.max.poll.interval.ms", "60000")).handOverWait()).hasSeconds(30);
  }

  /** A value a config provider gives the consumer is read as the consumer reads it. */
  @Test
  void aHandOverWaitReadsARebalanceTimeoutAConfigProviderGives(@TempDir Path tmp) throws Exception {
    Path secrets = Files.writeString(tmp.resolve("consumer.properties"), "interval=8000\n");
    Map<String, String> provided = fileProvided("consumer", secrets, Map.of("max.poll.interval.ms", "interval"));
    assertThat(settings(provided).handOverWait()).hasMillis(4_000);
  }

  /**
   * The producer's settings too: a provider's {@code max.block.ms} failed the start with a bare
   * NumberFormatException, and its {@code max.request.size} every lookup of the output topics.
   */
  @Test
  void theProducersWaitAndRequestSizeAreReadAsAConfigProviderGivesThem(@TempDir Path tmp) throws Exception {
    Path secrets = Files.writeString(tmp.resolve("producer.properties"), "block=7000\nrequest=2097152\n");
    Map<String, String> provided =
        fileProvided("producer", secrets, Map.of("max.block.ms", "block", "max.request.size", "request"));
    PipelineSettings s = settings(provided);
    assertThat(s.producerMaxBlockMs()).isEqualTo(7_000);
    assertThat(s.producerMaxRequestSize()).isEqualTo(2 << 20);
    assertThat(settings(Map.of()).producerMaxBlockMs()).as("Kafka's default").isEqualTo(60_000);
  }

  @Test
  void aDeadLetterTopicTakingLessLeavesLargerFramesOut() {
    int payload = settings(Map.of()).deadLetterPayloadBytes();
    assertThat(GapstreamService.deadLetterPayloadBytes(payload, 2L << 20)).isEqualTo((2 << 20) - (64 << 10));
    assertThat(GapstreamService.deadLetterPayloadBytes(payload, 32L << 20)).isEqualTo(8 << 20);
    assertThat(GapstreamService.deadLetterPayloadBytes(payload, 1_000)).as("a topic under the headroom").isZero();
  }
}
