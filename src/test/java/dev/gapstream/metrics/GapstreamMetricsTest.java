package dev.gapstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GapstreamMetricsTest {
  private final GapstreamMetrics metrics = GapstreamMetrics.create(Map.of("zone", "test"));

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void scrapeExposesExactlyTheContractNames() {
    recordOneOfEach(metrics.pipeline());

    String text = metrics.scrape();

    Set<String> gapstreamFamilies =
        text.lines()
            .filter(l -> l.startsWith("# TYPE gapstream_"))
            .map(l -> l.split(" ")[2])
            // Micrometer adds a _max gauge beside each histogram; it is not part of the contract.
            .filter(n -> !n.endsWith("_max"))
            .collect(Collectors.toSet());
    assertThat(gapstreamFamilies)
        .containsExactlyInAnyOrderElementsOf(GapstreamMetrics.PROMETHEUS_NAMES);
    for (String name : GapstreamMetrics.PROMETHEUS_NAMES) {
      assertThat(text).as(name).containsPattern("(?m)^" + name + "(_bucket|_count|_sum)?\\{");
    }
  }

  @Test
  void recordsValuesWithLowCardinalityTags() {
    PipelineMetrics p = metrics.pipeline();
    recordOneOfEach(p);
    p.frameRejected("decode-error");
    p.setInFlightSupplier(() -> 42);
    p.setPausedSupplier(() -> true);

    String text = metrics.scrape();

    assertThat(text)
        .contains("gapstream_frames_received_total{application=\"gapstream\",zone=\"test\"} 1.0")
        .contains(
            "gapstream_frames_rejected_total{application=\"gapstream\",reason=\"decode-error\","
                + "zone=\"test\"} 2.0")
        .contains(
            "gapstream_frames_rejected_total{application=\"gapstream\",reason=\"too-large\","
                + "zone=\"test\"} 0.0")
        .contains("gapstream_frames_in_flight{application=\"gapstream\",zone=\"test\"} 42.0")
        .contains("gapstream_consumer_paused{application=\"gapstream\",zone=\"test\"} 1.0")
        .contains(
            "gapstream_model_info{application=\"gapstream\",head=\"gap\",model=\"gapnet-shapes\","
                + "version=\"1\",zone=\"test\"} 1")
        .contains("gapstream_batch_size_count{application=\"gapstream\",zone=\"test\"} 1")
        .contains("gapstream_batch_size_sum{application=\"gapstream\",zone=\"test\"} 16.0")
        .contains("gapstream_inference_seconds_sum{application=\"gapstream\",zone=\"test\"} 0.012")
        .contains("gapstream_end_to_end_seconds_sum{application=\"gapstream\",zone=\"test\"} 0.018")
        .contains("gapstream_batch_max_frames{application=\"gapstream\",zone=\"test\"} 16.0")
        .contains("gapstream_batch_max_pixels{application=\"gapstream\",zone=\"test\"} 200704.0")
        .contains("gapstream_batch_run_max_pixels{application=\"gapstream\",zone=\"test\"} 100352.0")
        .contains("gapstream_batch_calibrated_frames{application=\"gapstream\",zone=\"test\"} 8.0")
        .contains(
            "gapstream_batch_calibration_frames_per_second{application=\"gapstream\",batch=\"4\","
                + "zone=\"test\"} 394.25")
        .doesNotContain("quantile=");
  }

  @Test
  void batchLimitsWithoutAPixelBoundReadInfinityAndALaterCallUpdatesThem() {
    PipelineMetrics p = metrics.pipeline();
    p.batchLimits(16, Long.MAX_VALUE, Long.MAX_VALUE);
    assertThat(metrics.scrape())
        .contains("gapstream_batch_max_pixels{application=\"gapstream\",zone=\"test\"} +Inf")
        .contains("gapstream_batch_run_max_pixels{application=\"gapstream\",zone=\"test\"} +Inf");

    p.batchLimits(8, 401_408, 100_352);
    p.batchCalibration(Map.of(1, 100.0), 1);
    p.batchCalibration(Map.of(1, 120.0), 1);

    String text = metrics.scrape();
    assertThat(text)
        .contains("gapstream_batch_max_frames{application=\"gapstream\",zone=\"test\"} 8.0")
        .contains("gapstream_batch_max_pixels{application=\"gapstream\",zone=\"test\"} 401408.0")
        .contains("gapstream_batch_run_max_pixels{application=\"gapstream\",zone=\"test\"} 100352.0")
        .contains(
            "gapstream_batch_calibration_frames_per_second{application=\"gapstream\",batch=\"1\","
                + "zone=\"test\"} 120.0");
    assertThat(text.lines().filter(l -> l.startsWith("gapstream_batch_calibration_frames_per_second{")))
        .hasSize(1);
  }

  @Test
  void aNewModelReplacesTheOldInfoSeries() {
    PipelineMetrics p = metrics.pipeline();
    p.modelInfo("a", "1", "gap");
    p.modelInfo("b", "2", "gap");

    assertThat(metrics.scrape()).contains("model=\"b\"").doesNotContain("model=\"a\"");
  }

  @Test
  void bindsJvmProcessKafkaAndExecutorMetrics() throws Exception {
    ExecutorService pool = metrics.monitor(Executors.newFixedThreadPool(1), "decode");
    pool.submit(() -> {}).get();
    Map<String, Object> cfg = Map.of("bootstrap.servers", "127.0.0.1:1", "client.id", "p1");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(cfg, new ByteArraySerializer(), new ByteArraySerializer())) {
      GapstreamMetrics.Binding binding = metrics.bindKafkaProducer(producer, "predictions");
      String text = metrics.scrape();
      binding.close();

      assertThat(text)
          .contains("jvm_memory_used_bytes", "jvm_gc_", "jvm_threads_live_threads")
          .contains("process_cpu_usage", "process_uptime_seconds", "jvm_classes_loaded_classes")
          .contains("executor_completed_tasks_total{application=\"gapstream\",name=\"decode\"")
          .contains("kafka_producer_");
    } finally {
      pool.shutdown();
      pool.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * The lag the alert rules sum: Kafka reports records-lag per assigned partition, and the binder
   * exports it with the topic and partition as labels (the rule counts each partition once).
   */
  @Test
  void consumerLagIsExportedPerTopicPartition() throws Exception {
    Map<MetricName, Metric> kafka = new HashMap<>();
    kafkaMetric(kafka, "records-lag-max", Map.of("client-id", "c1"), 801);
    for (int partition = 0; partition < 2; partition++) {
      Map<String, String> tags =
          Map.of("client-id", "c1", "topic", "frames", "partition", String.valueOf(partition));
      kafkaMetric(kafka, "records-lag", tags, 800 + partition);
    }
    AutoCloseable binding =
        metrics.pipeline().bindKafkaClients(client(Consumer.class, kafka), client(Producer.class, Map.of()), List.of("frames"));
    String text = metrics.scrape();
    binding.close();

    assertThat(text)
        .contains("kafka_consumer_fetch_manager_records_lag{application=\"gapstream\",client=\"consumer\","
            + "client_id=\"c1\",kafka_version=\"unknown\",partition=\"0\",topic=\"frames\",zone=\"test\"} 800.0")
        .contains("kafka_consumer_fetch_manager_records_lag{application=\"gapstream\",client=\"consumer\","
            + "client_id=\"c1\",kafka_version=\"unknown\",partition=\"1\",topic=\"frames\",zone=\"test\"} 801.0");
  }

  /**
   * A topic with dots in its name: the client reports its lag twice, the second copy (deprecated)
   * under the name with underscores. Only the topic's own is exported, or the rules sum it twice.
   */
  @Test
  void aDottedTopicsLagIsExportedOnce() throws Exception {
    Map<MetricName, Metric> kafka = new HashMap<>();
    for (String topic : List.of("cameras.frames", "cameras_frames")) {
      kafkaMetric(kafka, "records-lag", Map.of("client-id", "c1", "topic", topic, "partition", "0"), 600);
    }
    AutoCloseable binding =
        metrics.pipeline().bindKafkaClients(
            client(Consumer.class, kafka), client(Producer.class, Map.of()),
            List.of("cameras.frames", "predictions", "frames.dlq"));
    String text = metrics.scrape();
    binding.close();

    assertThat(text)
        .contains("kafka_consumer_fetch_manager_records_lag{application=\"gapstream\",client=\"consumer\","
            + "client_id=\"c1\",kafka_version=\"unknown\",partition=\"0\",topic=\"cameras.frames\",zone=\"test\"} 600.0")
        .doesNotContain("cameras_frames");
  }

  /**
   * The client creates a partition's records-lag after its first fetch, after the binding: it is
   * exported within seconds (Micrometer's default, a minute, kept it out of the first minute after
   * every start and rebalance).
   */
  @Test
  void theLagOfAPartitionAssignedAfterTheBindingIsExportedWithinSeconds() throws Exception {
    Map<MetricName, Metric> kafka = new ConcurrentHashMap<>();
    AutoCloseable binding =
        metrics.pipeline().bindKafkaClients(client(Consumer.class, kafka), client(Producer.class, Map.of()), List.of("frames"));
    try {
      assertThat(metrics.scrape()).doesNotContain("kafka_consumer_fetch_manager_records_lag{");
      kafkaMetric(kafka, "records-lag", Map.of("client-id", "c1", "topic", "frames", "partition", "3"), 42);
      Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(metrics.scrape())
          .contains("kafka_consumer_fetch_manager_records_lag{application=\"gapstream\",client=\"consumer\","
              + "client_id=\"c1\",kafka_version=\"unknown\",partition=\"3\",topic=\"frames\",zone=\"test\"} 42.0"));
    } finally {
      binding.close();
    }
  }

  /**
   * The latency objective's bound is a bucket's: a p99 of 0.99 s stays under the alert's 1 s (with
   * Micrometer's buckets alone, 0.984 and 1.074 s, it was interpolated to 1.07 s).
   */
  @Test
  void latencyHasABucketAtEachObjective() {
    metrics.pipeline().recordEndToEnd(990);

    assertThat(metrics.scrape())
        .contains("gapstream_end_to_end_seconds_bucket{application=\"gapstream\",zone=\"test\",le=\"0.984263336\"} 0\n")
        .contains("gapstream_end_to_end_seconds_bucket{application=\"gapstream\",zone=\"test\",le=\"1.0\"} 1\n")
        .contains("le=\"0.1\"").contains("le=\"0.25\"").contains("le=\"0.5\"").contains("le=\"2.0\"")
        .contains("le=\"5.0\"").contains("le=\"10.0\"");
  }

  /** Where the CAMs peaked, in percent, each in its tenth (fractions all fell in the last bucket). */
  @Test
  void camFractionsFallInTheirOwnTenths() {
    metrics.pipeline().recordCam(0.05, 0.5, 0.9);
    metrics.pipeline().recordCam(0.3, 0.5, 0.3); // on a boundary: in the tenth it ends
    metrics.pipeline().recordCam(0.55, 0.5, 0.42);
    metrics.pipeline().recordCam(0.85, 0.5, 1.0);

    assertThat(metrics.scrape())
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"10.0\"} 1\n")
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"20.0\"} 1\n")
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"30.0\"} 2\n")
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"50.0\"} 2\n")
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"60.0\"} 3\n")
        .contains("gapstream_cam_peak_x_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"90.0\"} 4\n")
        .contains("gapstream_cam_peak_x_percent_sum{application=\"gapstream\",zone=\"test\"} 175.0\n")
        .contains("gapstream_cam_heat_in_box_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"30.0\"} 1\n")
        .contains("gapstream_cam_heat_in_box_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"40.0\"} 1\n")
        .contains("gapstream_cam_heat_in_box_percent_bucket{application=\"gapstream\",zone=\"test\",le=\"50.0\"} 2\n");
  }

  @Test
  void publishFailuresAreCountedByTopicAndTheKafkaErrorWithin() {
    PipelineMetrics p = metrics.pipeline();
    var timeout = new org.apache.kafka.common.errors.TimeoutException("Expiring 3 record(s)");
    p.publishFailed("predictions", timeout);
    p.publishFailed("predictions", new java.util.concurrent.CompletionException(timeout));
    p.publishFailed("frames.dlq", new IllegalStateException("Producer closed"));

    assertThat(metrics.scrape())
        .contains("gapstream_publish_failures_total{application=\"gapstream\",error=\"TimeoutException\","
            + "topic=\"predictions\",zone=\"test\"} 2.0")
        .contains("gapstream_publish_failures_total{application=\"gapstream\",error=\"IllegalStateException\","
            + "topic=\"frames.dlq\",zone=\"test\"} 1.0");
  }

  private static void kafkaMetric(
      Map<MetricName, Metric> into, String name, Map<String, String> tags, double value) {
    MetricName id = new MetricName(name, "consumer-fetch-manager-metrics", "", tags);
    into.put(id, new Metric() {
      @Override
      public MetricName metricName() {
        return id;
      }

      @Override
      public Object metricValue() {
        return value;
      }
    });
  }

  /** A Kafka client whose only working method is {@code metrics()}, all the binder calls. */
  private static <T> T client(Class<T> type, Map<MetricName, Metric> kafkaMetrics) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
        (proxy, method, args) -> switch (method.getName()) {
          case "metrics" -> kafkaMetrics;
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          case "toString" -> type.getSimpleName();
          default -> throw new UnsupportedOperationException(method.getName());
        }));
  }

  private static void recordOneOfEach(PipelineMetrics p) {
    p.frameReceived();
    p.frameRejected("decode-error");
    p.predictionPublished();
    p.publishFailed("predictions", new org.apache.kafka.common.errors.TopicAuthorizationException("denied"));
    p.recordBatch(16, 3_000_000);
    p.recordDecode(500_000);
    p.recordInference(12_000_000);
    p.recordEndToEnd(18);
    p.modelInfo("gapnet-shapes", "1", "gap");
    p.batchLimits(16, 4L * 224 * 224, 2L * 224 * 224);
    p.batchCalibration(Map.of(1, 350.5, 2, 371.0, 4, 394.25, 8, 341.5, 16, 300.0), 8);
  }
}
