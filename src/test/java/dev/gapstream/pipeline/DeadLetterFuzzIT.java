package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.ingest.FuzzFrames;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * A few thousand fuzzed frames through the real pipeline: each one a prediction or a dead letter,
 * each counted, every offset committed, and the pipeline still up.
 *
 * <p>No {@link dev.gapstream.testing.BlockedThreadGuard} here: the counts are the point, and on a
 * shared two-core machine, with the fuzzed frames' decoding on both cores, the 100 ms limit trips
 * on scheduling delays alone (tried again in the twenty-second session: a clean CI run caught the
 * event loop "blocked" 339 ms in a {@code HashMap} lookup, descheduled). {@link DeadLetterIT}'s
 * handful of bad frames run under the guard.
 */
class DeadLetterFuzzIT {

  @Test
  void fuzzedFramesThroughThePipelineEachBecomeAPredictionOrADeadLetter() throws Exception {
    int inputs = 2_000;
    FuzzFrames fuzz = new FuzzFrames(77);
    List<String> ids = new ArrayList<>();
    try (GapstreamService service = TestPipelines.start(Map.of());
        KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of());
        Outputs out = Outputs.read(service.bootstrapServers());
        Admin admin = service.broker().admin()) {
      for (int i = 0; i < inputs; i++) {
        FuzzFrames.Input in = i % 5 == 0 ? new FuzzFrames.Input("valid", fuzz.validJpeg(), null, null, null) : fuzz.next();
        Map<String, String> headers = new LinkedHashMap<>();
        putIfNotNull(headers, "content-type", in.contentType());
        putIfNotNull(headers, "width", in.width());
        putIfNotNull(headers, "height", in.height());
        String id = "fuzz-" + i;
        ids.add(id);
        producer.send(DeadLetterIT.record(id, in.data(), headers));
      }
      producer.flush();
      Outputs.Tally tally = out.await(ids, Duration.ofMinutes(2));
      Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(1));
      System.out.println("pipeline fuzz: " + settled);
      assertThat(tally.lost()).as(tally.toString()).isZero();
      assertThat(settled.duplicates()).isZero();
      assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
      assertThat(settled.predicted()).as("at least the valid fifth").isGreaterThanOrEqualTo(inputs / 5);

      PromText metrics = PromText.parse(TestPipelines.get(service, "/metrics").body());
      assertThat(metrics.sum("gapstream_frames_received_total")).isEqualTo(inputs);
      assertThat(metrics.sum("gapstream_frames_rejected_total")).isEqualTo(settled.deadLettered());
      assertThat(metrics.sum("gapstream_predictions_published_total")).isEqualTo(settled.predicted());
      assertThat(TestPipelines.get(service, "/health/live").statusCode()).isEqualTo(200);
      assertThat(TestPipelines.get(service, "/health/ready").statusCode()).isEqualTo(200);
      DeadLetterIT.assertCommittedToTheEnd(admin, service.config().kafka().groupId());
    }
  }

  private static void putIfNotNull(Map<String, String> headers, String key, String value) {
    if (value != null) {
      headers.put(key, value);
    }
  }
}
