package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.cli.Demo;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole data flow on a real embedded broker with the shipped model: 2,000 synthetic frames at
 * mixed resolutions over 4 partitions, sent at once.
 */
@ExtendWith(BlockedThreadGuard.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineIT {

  private static final int FRAMES = 2000;
  private static GapstreamService service;
  private static Demo.Summary summary;

  @BeforeAll
  static void runTwoThousandFrames() throws Exception {
    service = TestPipelines.start(Map.of("batch.max.size", "16", "batch.max.delay.ms", "20"));
    summary = new Demo(service, FRAMES, 0, 7_777).run(Duration.ofMinutes(3), status -> {});
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  @Order(1)
  void everyFrameHasExactlyOnePredictionAndTheyAreRight() {
    assertThat(summary.predictions()).isEqualTo(FRAMES);
    assertThat(summary.deadLetters()).isZero();
    assertThat(summary.duplicates()).isZero();
    assertThat(summary.accuracy()).isGreaterThanOrEqualTo(0.97);
    assertThat(summary.meanBatchSize()).as("frames batch together under load").isGreaterThan(1.0);
  }

  @Test
  @Order(2)
  void committedOffsetsReachTheEndOfEveryPartition() throws Exception {
    try (Admin admin = service.broker().admin()) {
      String topic = service.config().topics().frames();
      Map<TopicPartition, OffsetSpec> latest =
          admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
              .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
      assertThat(latest).hasSize(4);
      Map<TopicPartition, Long> ends =
          admin.listOffsets(latest).all().get().entrySet().stream()
              .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
      assertThat(ends.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(FRAMES);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(service.config().kafka().groupId())
                .partitionsToOffsetAndMetadata().get();
        assertThat(committed.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())))
            .isEqualTo(ends);
      });
    }
  }

  @Test
  @Order(3)
  void metricsScrapeHasEveryArchitectureMetricWithValuesFromThisRun() throws Exception {
    HttpResponse<String> scrape = TestPipelines.get(service, "/metrics");
    assertThat(scrape.statusCode()).isEqualTo(200);
    PromText metrics = PromText.parse(scrape.body());
    assertThat(metrics.names())
        .contains(
            "gapstream_frames_received_total",
            "gapstream_frames_rejected_total",
            "gapstream_predictions_published_total",
            "gapstream_batch_size_bucket",
            "gapstream_batch_wait_seconds_bucket",
            "gapstream_decode_seconds_bucket",
            "gapstream_inference_seconds_bucket",
            "gapstream_end_to_end_seconds_bucket",
            "gapstream_frames_in_flight",
            "gapstream_consumer_paused",
            "gapstream_model_info");
    assertThat(metrics.sum("gapstream_frames_received_total")).isEqualTo(FRAMES);
    assertThat(metrics.sum("gapstream_predictions_published_total")).isEqualTo(FRAMES);
    assertThat(metrics.sum("gapstream_frames_rejected_total")).isZero();
    assertThat(metrics.sum("gapstream_batch_size_sum")).as("every frame in one batch").isEqualTo(FRAMES);
    double batches = metrics.sum("gapstream_batch_size_count");
    assertThat(batches).isBetween(1.0, FRAMES - 1.0);
    assertThat(metrics.sum("gapstream_inference_seconds_count")).isEqualTo(batches);
    // The worker's own parts of each batch, around its run: both timed, both taking some time.
    for (String part : List.of("gapstream_batch_tensor_seconds", "gapstream_batch_results_seconds")) {
      assertThat(metrics.sum(part + "_count")).as(part).isEqualTo(batches);
      assertThat(metrics.sum(part + "_sum")).as(part).isPositive();
    }
    assertThat(metrics.sum("gapstream_decode_seconds_count")).isEqualTo(FRAMES);
    assertThat(metrics.sum("gapstream_end_to_end_seconds_count")).isEqualTo(FRAMES);
    assertThat(metrics.sum("gapstream_frames_in_flight")).isZero();
    assertThat(metrics.sum("gapstream_consumer_paused")).isZero();
    assertThat(metrics.value("gapstream_model_info", Map.of("model", "gapnet-shapes"))).isEqualTo(1.0);
    // Calibration off here: batches run whole.
    assertThat(metrics.sum("gapstream_batch_run_max_pixels")).isEqualTo(Double.POSITIVE_INFINITY);
  }

  @Test
  @Order(4)
  void readyWhileRunning() throws Exception {
    assertThat(TestPipelines.get(service, "/health/live").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = TestPipelines.get(service, "/health/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    PromText metrics = PromText.parse(TestPipelines.get(service, "/metrics").body());
    assertThat(metrics.sum("gapstream_ready")).as("the gauge GapstreamNotReady watches").isEqualTo(1.0);
  }
}
