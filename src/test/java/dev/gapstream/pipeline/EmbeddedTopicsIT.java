package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.LogCapture;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker's topics in a kept data directory ({@code kafka.embedded.dir}). */
@ExtendWith(BlockedThreadGuard.class)
class EmbeddedTopicsIT {

  /**
   * {@code kafka.embedded.partitions} raised since the topics were made grows them; lowered, they
   * keep what they have (Kafka cannot take partitions away), and a warning says so. Before, the
   * key was ignored in a kept directory, the log naming the new count all the same.
   */
  @Test
  void keptTopicsGrowToTheConfiguredPartitionsAndSayWhenTheyHaveMore(@TempDir Path dir) throws Exception {
    try (GapstreamService service = start(dir, 2)) {
      assertThat(partitions(service)).containsExactly(2, 2);
    }
    try (GapstreamService service = start(dir, 4)) {
      assertThat(partitions(service)).containsExactly(4, 4);
    }
    try (LogCapture log = LogCapture.of(GapstreamService.class);
        GapstreamService service = start(dir, 1)) {
      assertThat(partitions(service)).containsExactly(4, 4);
      assertThat(log.messages()).anyMatch(m -> m.startsWith("Embedded Kafka: topic frames keeps its 4 partitions in " + dir)
              && m.contains("over kafka.embedded.partitions=1"));
    }
  }

  private static GapstreamService start(Path dir, int partitions) {
    return TestPipelines.start(
        Map.of("kafka.embedded.dir", dir.toString(), "kafka.embedded.partitions", String.valueOf(partitions)));
  }

  /** The partition counts of the frames and predictions topics. */
  private static List<Integer> partitions(GapstreamService service) throws Exception {
    try (Admin admin = service.broker().admin()) {
      var topics = admin.describeTopics(List.of("frames", "predictions")).allTopicNames().get(30, TimeUnit.SECONDS);
      return List.of(topics.get("frames").partitions().size(), topics.get("predictions").partitions().size());
    }
  }
}
