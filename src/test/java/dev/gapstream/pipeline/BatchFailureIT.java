package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.http.Health;
import dev.gapstream.ingest.DecodeLimits;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Inference failures at the verticle level, with a stand-in {@link BatchRunner}: frames whose model
 * output is not finite are dead-lettered one by one; a batch whose run throws dead-letters its own
 * frames and nothing else. Both with reason {@code inference-error}, counted, and committed.
 */
@ExtendWith(BlockedThreadGuard.class)
class BatchFailureIT {

  private static final String GROUP = "batch-failure";

  /** 64x64 frames: NaN logits for {@code nan-*}, a prediction otherwise; an 80x80 batch throws. */
  private static final BatchRunner STAND_IN = batch -> {
    if (batch.key().width() == 80) {
      throw new IllegalStateException("stand-in model crashed on an 80x80 batch");
    }
    List<Outcome> outcomes = new ArrayList<>();
    for (Frame frame : batch.items()) {
      float logit = frame.frameId().startsWith("nan-") ? Float.NaN : 1.0f;
      outcomes.add(
          Float.isFinite(logit)
              ? Outcome.predicted(frame, ("{\"frameId\":\"" + frame.frameId() + "\"}").getBytes(StandardCharsets.UTF_8))
              : Outcome.rejected(frame, RejectReason.INFERENCE_ERROR, "the model gave non-finite logits"));
    }
    return outcomes;
  };

  @Test
  void nonFiniteOutputsAndAFailedBatchDeadLetterOnlyTheirOwnFrames() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1);
        GapstreamMetrics metrics = GapstreamMetrics.create();
        Outputs out = Outputs.read(broker.bootstrapServers());
        Admin admin = broker.admin()) {
      GapstreamConfig config =
          TestPipelines.config(Map.of(
              "kafka.bootstrap.servers", broker.bootstrapServers(), "kafka.group.id", GROUP,
              "batch.max.size", "8", "batch.max.delay.ms", "20"));
      Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
      try {
        PipelineVerticle verticle =
            new PipelineVerticle(
                GapstreamService.settings(config, broker.bootstrapServers()),
                new FrameDecoder(new DecodeLimits(1 << 20, 1 << 22, 32, 32, 0, 0)),
                STAND_IN,
                metrics.pipeline(),
                Health.requiring("partitions"));
        vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);

        byte[] small = FrameFeed.jpegs(1, 64, 64, 1).get(0);
        byte[] large = FrameFeed.jpegs(1, 80, 80, 2).get(0);
        List<String> ok = new ArrayList<>();
        List<String> nan = new ArrayList<>();
        List<String> boom = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(broker.bootstrapServers(), Map.of())) {
          for (int i = 0; i < 60; i++) {
            String id = i % 10 == 3 ? "nan-" + i : i % 10 == 7 ? "boom-" + i : "ok-" + i;
            (id.startsWith("nan") ? nan : id.startsWith("boom") ? boom : ok).add(id);
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>("frames", null, id.startsWith("boom") ? large : small);
            r.headers().add("frame-id", id.getBytes(StandardCharsets.UTF_8));
            producer.send(r);
          }
        }
        List<String> all = new ArrayList<>(ok);
        all.addAll(nan);
        all.addAll(boom);
        Outputs.Tally tally = out.await(all, Duration.ofMinutes(1));
        System.out.println("inference failures: " + tally);

        assertThat(tally.lost()).as(tally.toString()).isZero();
        assertThat(out.tally(ok).predicted()).isEqualTo(ok.size());
        assertDeadLettered(out, nan, "non-finite");
        assertDeadLettered(out, boom, "batch failed");
        // Counted at the broker's acknowledgement, which can reach the pipeline after the reader here
        // has the record.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(PromText.parse(metrics.scrape()).value("gapstream_frames_rejected_total", Map.of("reason", "inference-error")))
                .isEqualTo(nan.size() + boom.size()));
        var ends = KafkaState.endOffsets(admin, "frames");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
            assertThat(KafkaState.committed(admin, GROUP, "frames")).isEqualTo(ends));
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
      }
    }
  }

  private static void assertDeadLettered(Outputs out, List<String> ids, String error) {
    for (String id : ids) {
      assertThat(out.predictions(id)).as(id).isZero();
      List<ConsumerRecord<byte[], byte[]>> letters = out.deadLetters(id);
      assertThat(letters).as(id).hasSize(1);
      assertThat(Outputs.header(letters.get(0), "dlq-reason")).isEqualTo("inference-error");
      assertThat(Outputs.header(letters.get(0), "dlq-error")).contains(error);
    }
  }
}
