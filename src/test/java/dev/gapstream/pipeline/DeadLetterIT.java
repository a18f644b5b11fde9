package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad frames on the real pipeline: each kind goes to {@code frames.dlq} with the contract headers,
 * is counted by reason on {@code /metrics}, and its offset is committed, while the good frames
 * around it are predicted. The fuzzed frames are {@link DeadLetterFuzzIT}'s.
 */
@ExtendWith(BlockedThreadGuard.class)
class DeadLetterIT {

  private static final int MAX_FRAME_BYTES = 200_000;
  private GapstreamService service;

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
  }

  /** A bad frame and the reason it must be dead-lettered with. */
  private record Bad(String id, byte[] value, Map<String, String> headers, String reason) {}

  @Test
  void everyKindOfBadFrameIsDeadLetteredWithItsReasonCountedAndCommitted() throws Exception {
    service = TestPipelines.start(Map.of("ingest.max.frame.bytes", String.valueOf(MAX_FRAME_BYTES)));
    List<Bad> bad = badFrames();
    List<byte[]> good = FrameFeed.jpegs(4, 64, 64, 5);
    List<String> goodIds = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of());
        Outputs out = Outputs.read(service.bootstrapServers());
        Admin admin = service.broker().admin()) {
      int n = 0;
      for (Bad b : bad) {
        for (int k = 0; k < 2; k++) {
          String id = "good-" + n++;
          goodIds.add(id);
          producer.send(record(id, good.get(n % good.size()), Map.of("content-type", "image/jpeg")));
        }
        producer.send(record(b.id(), b.value(), b.headers()));
      }
      producer.flush();

      List<String> all = new ArrayList<>(goodIds);
      bad.forEach(b -> all.add(b.id()));
      Outputs.Tally tally = out.await(all, Duration.ofMinutes(1));
      System.out.println("dead letters: " + tally);
      assertThat(tally.lost()).as(tally.toString()).isZero();
      assertThat(out.tally(goodIds).predicted()).as("good frames between the bad ones").isEqualTo(goodIds.size());

      Map<String, Integer> byReason = new LinkedHashMap<>();
      for (Bad b : bad) {
        assertThat(out.predictions(b.id())).as(b.id()).isZero();
        List<ConsumerRecord<byte[], byte[]>> letters = out.deadLetters(b.id());
        assertThat(letters).as(b.id()).hasSize(1);
        ConsumerRecord<byte[], byte[]> dl = letters.get(0);
        assertThat(Outputs.header(dl, "dlq-reason")).as(b.id()).isEqualTo(b.reason());
        assertThat(Outputs.header(dl, "dlq-error")).as(b.id()).isNotBlank();
        assertThat(Outputs.header(dl, "dlq-source")).as(b.id()).matches("frames-\\d+-\\d+");
        if (b.value().length > MAX_FRAME_BYTES) {
          assertThat(dl.value()).as("value of " + b.id() + ", over ingest.max.frame.bytes").isNull();
          assertThat(Outputs.header(dl, "dlq-payload-omitted"))
              .as(b.id())
              .isEqualTo(b.value().length + " bytes, over the " + MAX_FRAME_BYTES + " a dead letter carries");
        } else {
          assertThat(dl.value()).as("original value of " + b.id()).isEqualTo(b.value());
          assertThat(Outputs.header(dl, "dlq-payload-omitted")).as(b.id()).isNull();
        }
        assertThat(new String(dl.key(), StandardCharsets.UTF_8)).isEqualTo("key-" + b.id());
        b.headers().forEach((k, v) -> assertThat(Outputs.header(dl, k)).as(b.id() + " " + k).isEqualTo(v));
        byReason.merge(b.reason(), 1, Integer::sum);
        System.out.printf("  %-22s -> %-18s %s%n", b.id(), b.reason(), Outputs.header(dl, "dlq-error"));
      }

      // Counted at the broker's acknowledgement, which can reach the pipeline after the reader here
      // has the record.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        PromText metrics = PromText.parse(TestPipelines.get(service, "/metrics").body());
        byReason.forEach((reason, count) ->
            assertThat(metrics.value("gapstream_frames_rejected_total", Map.of("reason", reason)))
                .as(reason)
                .isEqualTo((double) count));
        assertThat(metrics.sum("gapstream_frames_rejected_total")).isEqualTo(bad.size());
        assertThat(metrics.sum("gapstream_predictions_published_total")).isEqualTo(goodIds.size());
      });
      assertCommittedToTheEnd(admin, service.config().kafka().groupId());
    }
  }

  /**
   * The embedded broker takes requests as large as the largest record it takes: with {@code
   * ingest.max.frame.bytes} over 100 MiB, Kafka's default request limit, a frame's request was
   * dropped at the socket, the producer saw a network error and sent it again, for ever.
   */
  @Test
  void theEmbeddedBrokerTakesRequestsAsLargeAsItsLargestRecord() throws Exception {
    service = TestPipelines.start(Map.of("ingest.max.frame.bytes", "200MiB"));
    try (Admin admin = service.broker().admin()) {
      String id = admin.describeCluster().nodes().get().iterator().next().idString();
      var broker = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, id)))
          .all().get().values().iterator().next();
      long largestRecord = Long.parseLong(broker.get("message.max.bytes").value());
      assertThat(largestRecord).isGreaterThanOrEqualTo(200L << 20);
      assertThat(Long.parseLong(broker.get("socket.request.max.bytes").value()))
          .as("a request holds a record and its batch and request headers")
          .isGreaterThan(largestRecord);
    }
  }

  /**
   * Frames over Kafka's default 1 MiB request and under {@code ingest.max.frame.bytes} (8 MiB by
   * default) are dead-lettered whole; one larger than the dead-letter topic takes goes without its
   * bytes. Neither holds up the frames behind it.
   */
  @Test
  void largeFramesAreDeadLetteredWholeOrWithoutTheirBytesWhereTheTopicRefusesThem() throws Exception {
    service = TestPipelines.start(Map.of());
    int frameTopicLimit = 8 << 20;
    int deadLetterTopicLimit = 2 << 20;
    List<byte[]> good = FrameFeed.jpegs(2, 64, 64, 9);
    Bad whole = new Bad("one-and-a-half-mb", undecodableJpeg(1_500_000, 4), Map.of(), "decode-error");
    Bad refused = new Bad("three-mb", undecodableJpeg(3_000_000, 5), Map.of(), "decode-error");
    try (Admin admin = service.broker().admin()) {
      setMaxMessageBytes(admin, "frames", frameTopicLimit);
      setMaxMessageBytes(admin, "frames.dlq", deadLetterTopicLimit);
      List<String> ids = new ArrayList<>();
      try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(
              service.bootstrapServers(), Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(frameTopicLimit)));
          Outputs out = Outputs.read(service.bootstrapServers())) {
        int n = 0;
        for (Bad b : List.of(whole, refused)) {
          producer.send(record(b.id(), b.value(), b.headers())).get();
          ids.add(b.id());
          String id = "after-" + n;
          producer.send(record(id, good.get(n++ % good.size()), Map.of("content-type", "image/jpeg"))).get();
          ids.add(id);
        }

        Outputs.Tally tally = out.await(ids, Duration.ofMinutes(1));
        System.out.println("large dead letters: " + tally);
        assertThat(tally.lost()).as(tally.toString()).isZero();
        assertThat(out.predictions("after-0") + out.predictions("after-1")).isEqualTo(2);

        ConsumerRecord<byte[], byte[]> kept = out.deadLetters(whole.id()).get(0);
        assertThat(Outputs.header(kept, "dlq-reason")).isEqualTo("decode-error");
        assertThat(kept.value()).as("a 1.5 MB frame's dead letter").isEqualTo(whole.value());
        assertThat(Outputs.header(kept, "dlq-payload-omitted")).isNull();

        ConsumerRecord<byte[], byte[]> bare = out.deadLetters(refused.id()).get(0);
        assertThat(Outputs.header(bare, "dlq-reason")).isEqualTo("decode-error");
        assertThat(Outputs.header(bare, "dlq-error")).isNotBlank();
        assertThat(Outputs.header(bare, "dlq-source")).matches("frames-\\d+-\\d+");
        assertThat(bare.value()).as("a 3 MB frame's dead letter, over the topic's 2 MB").isNull();
        assertThat(Outputs.header(bare, "dlq-payload-omitted")).startsWith("refused as too large");
        System.out.println("  without its bytes: " + Outputs.header(bare, "dlq-payload-omitted"));
      }
      // Ready, once the connection check (every second) has seen the consumer connected: this
      // test can be over within a second of the start.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        var ready = TestPipelines.get(service, "/health/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      });
      assertCommittedToTheEnd(admin, service.config().kafka().groupId());
    }
  }

  /**
   * With {@code ingest.max.frame.age.ms}, frames stamped longer ago than that are skipped:
   * dead-lettered as {@code expired} without their bytes, counted, committed; the fresh frames
   * between them are predicted. In both delivery modes: exactly-once sends the dead letters in its
   * transactions (read here with {@code read_committed}).
   */
  @ParameterizedTest
  @ValueSource(strings = {"at-least-once", "exactly-once"})
  void framesOlderThanTheMaxAgeAreDeadLetteredAsExpiredWithoutTheirBytes(String guarantee) throws Exception {
    service = TestPipelines.start(Map.of("ingest.max.frame.age.ms", "60000", "delivery.guarantee", guarantee));
    List<byte[]> jpegs = FrameFeed.jpegs(2, 64, 64, 11);
    List<String> stale = new ArrayList<>();
    List<String> fresh = new ArrayList<>();
    long now = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of());
        Outputs out = Outputs.read(service.bootstrapServers(), Map.of("isolation.level", "read_committed"));
        Admin admin = service.broker().admin()) {
      for (int i = 0; i < 12; i++) {
        boolean old = i % 3 == 0;
        String id = (old ? "stale-" : "fresh-") + i;
        (old ? stale : fresh).add(id);
        ProducerRecord<byte[], byte[]> r = record(id, jpegs.get(i % 2), Map.of("content-type", "image/jpeg"));
        // Stamped ten minutes ago, as a camera's frames are after an outage of the pipeline.
        long timestamp = old ? now - 600_000 : System.currentTimeMillis();
        producer.send(new ProducerRecord<>(r.topic(), null, timestamp, r.key(), r.value(), r.headers()));
      }
      producer.flush();

      List<String> all = new ArrayList<>(stale);
      all.addAll(fresh);
      Outputs.Tally tally = out.await(all, Duration.ofMinutes(1));
      assertThat(tally.lost()).as(tally.toString()).isZero();
      assertThat(out.tally(fresh).predicted()).as("fresh frames").isEqualTo(fresh.size());
      assertThat(out.tally(fresh).duplicates()).isZero();
      for (String id : stale) {
        assertThat(out.predictions(id)).as(id).isZero();
        List<ConsumerRecord<byte[], byte[]>> letters = out.deadLetters(id);
        assertThat(letters).as(id).hasSize(1);
        ConsumerRecord<byte[], byte[]> dl = letters.get(0);
        assertThat(Outputs.header(dl, "dlq-reason")).isEqualTo("expired");
        assertThat(Outputs.header(dl, "dlq-error"))
            .matches("the frame was 6\\d{5} ms old when its turn came, over ingest.max.frame.age.ms=60000: skipped unclassified");
        assertThat(Outputs.header(dl, "dlq-payload-omitted")).startsWith("expired");
        assertThat(Outputs.header(dl, "dlq-source")).matches("frames-\\d+-\\d+");
        assertThat(dl.value()).as("an expired frame's dead letter carries no bytes").isNull();
        assertThat(Outputs.header(dl, "frame-id")).isEqualTo(id);
      }
      // Exactly-once counts a dead letter once its transaction has committed, which the pipeline
      // can hear of after the reader here has the record.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        PromText metrics = PromText.parse(TestPipelines.get(service, "/metrics").body());
        assertThat(metrics.value("gapstream_frames_rejected_total", Map.of("reason", "expired")))
            .isEqualTo((double) stale.size());
        assertThat(metrics.sum("gapstream_predictions_published_total")).isEqualTo(fresh.size());
      });
      assertCommittedToTheEnd(admin, service.config().kafka().groupId());
    }
  }

  /**
   * Exactly-once: a dead letter is counted once the transaction that holds it commits, not when the
   * broker acknowledges it (still to be aborted, and sent and counted again after the restart), nor
   * when the pipeline chose to dead-letter the frame. With commits 15 s apart (what the test does
   * between two takes a second or two), the dead letters sit acknowledged in an open transaction (a
   * {@code read_uncommitted} reader has them), uncounted, until it commits.
   */
  @Test
  void exactlyOnceCountsADeadLetterOrAPredictionOnceItsTransactionCommits() throws Exception {
    service = TestPipelines.start(Map.of("delivery.guarantee", "exactly-once", "delivery.commit.interval.ms", "15000"));
    List<byte[]> jpegs = FrameFeed.jpegs(3, 64, 64, 13);
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of());
        Outputs committed = Outputs.read(service.bootstrapServers(), Map.of("isolation.level", "read_committed"));
        Outputs sent = Outputs.read(service.bootstrapServers())) {
      // The first commit goes at once; the next one 15 s after it.
      producer.send(record("first", jpegs.get(0), Map.of("content-type", "image/jpeg"))).get();
      assertThat(committed.await(List.of("first"), Duration.ofMinutes(1)).predicted()).isEqualTo(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> published() == 1);
      List<String> bad = List.of("bad-0", "bad-1");
      for (String id : bad) {
        producer.send(record(id, "not an image".getBytes(StandardCharsets.UTF_8), Map.of())).get();
      }
      List<String> good = List.of("good-0", "good-1");
      for (int i = 0; i < good.size(); i++) {
        producer.send(record(good.get(i), jpegs.get(i + 1), Map.of("content-type", "image/jpeg"))).get();
      }
      assertThat(sent.await(bad, Duration.ofSeconds(10)).deadLettered()).as("acknowledged").isEqualTo(bad.size());
      assertThat(sent.await(good, Duration.ofSeconds(10)).predicted()).as("acknowledged").isEqualTo(good.size());
      double beforeCommit = rejected();
      double publishedBeforeCommit = published();
      double timedBeforeCommit = timed();
      int committedBefore = committed.tally(bad).deadLettered() + committed.tally(good).predicted();

      Outputs.Tally done = committed.await(bad, Duration.ofSeconds(40));
      System.out.printf(
          "dead letters counted before their transaction committed: %.0f, predictions %.0f; after: %s%n",
          beforeCommit, publishedBeforeCommit - 1, done);
      assertThat(committedBefore).as("the transaction was still open when counted").isZero();
      assertThat(beforeCommit).as("dead letters counted before the transaction committed").isZero();
      assertThat(publishedBeforeCommit).as("predictions counted before the transaction committed").isEqualTo(1);
      assertThat(timedBeforeCommit).as("end-to-end times taken before the transaction committed").isEqualTo(1);
      assertThat(done.deadLettered()).isEqualTo(bad.size());
      assertThat(committed.await(good, Duration.ofSeconds(10)).predicted()).isEqualTo(good.size());
      await().atMost(Duration.ofSeconds(10)).until(() -> rejected() == bad.size());
      await().atMost(Duration.ofSeconds(10)).until(() -> published() == 1 + good.size());
      assertThat(timed()).as("an end-to-end time for each prediction once it is there to stay").isEqualTo(1 + good.size());
    }
  }

  private double rejected() throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_frames_rejected_total");
  }

  private double published() throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_predictions_published_total");
  }

  private double timed() throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body()).sum("gapstream_end_to_end_seconds_count");
  }

  private static byte[] undecodableJpeg(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    data[0] = (byte) 0xff;
    data[1] = (byte) 0xd8;
    data[2] = (byte) 0xff;
    return data;
  }

  private static void setMaxMessageBytes(Admin admin, String topic, int bytes) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    AlterConfigOp op =
        new AlterConfigOp(new ConfigEntry("max.message.bytes", String.valueOf(bytes)), AlterConfigOp.OpType.SET);
    admin.incrementalAlterConfigs(Map.of(resource, List.of(op))).all().get();
  }

  /** Every partition of {@code frames} that was sent to is committed to its end by {@code group}. */
  static void assertCommittedToTheEnd(Admin admin, String group) throws Exception {
    var ends = new LinkedHashMap<>(KafkaState.endOffsets(admin, "frames"));
    ends.values().removeIf(end -> end == 0); // a partition nothing was sent to has nothing to commit
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(ends));
  }

  private static List<Bad> badFrames() {
    SyntheticFrames frames = new SyntheticFrames(11, List.of(new FrameSize(64, 64)));
    byte[] jpeg = frames.next().encode("jpeg");
    byte[] png = frames.next().encode("png");
    byte[] tiny = new SyntheticFrames(12, List.of(new FrameSize(16, 16))).next().encode("jpeg");
    byte[] corruptPng = png.clone();
    Arrays.fill(corruptPng, png.length / 2, png.length / 2 + 64, (byte) 0x5a);
    byte[] hugePng = png.clone();
    ByteBuffer.wrap(hugePng, 16, 8).putInt(20_000).putInt(20_000);
    byte[] oversized = new byte[MAX_FRAME_BYTES + 1];
    new Random(3).nextBytes(oversized);
    oversized[0] = (byte) 0xff;
    oversized[1] = (byte) 0xd8;
    oversized[2] = (byte) 0xff;
    Map<String, String> jpegType = Map.of("content-type", "image/jpeg");
    return List.of(
        new Bad("empty", new byte[0], jpegType, "decode-error"),
        new Bad("unknown-bytes", "not an image at all".getBytes(StandardCharsets.UTF_8), Map.of(), "unsupported-format"),
        new Bad("unsupported-type", jpeg, Map.of("content-type", "image/webp"), "unsupported-format"),
        new Bad("truncated-jpeg", Arrays.copyOf(jpeg, jpeg.length / 2), jpegType, "decode-error"),
        new Bad("corrupt-png", corruptPng, Map.of("content-type", "image/png"), "decode-error"),
        new Bad("raw-size-mismatch", new byte[1_000],
            Map.of("content-type", "image/x-raw-rgb", "width", "64", "height", "64"), "bad-shape"),
        new Bad("over-max-bytes", oversized, jpegType, "too-large"),
        new Bad("over-max-pixels", hugePng, Map.of("content-type", "image/png"), "too-large"),
        new Bad("below-model-minimum", tiny, jpegType, "bad-shape"));
  }

  static ProducerRecord<byte[], byte[]> record(String id, byte[] value, Map<String, String> headers) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>("frames", ("key-" + id).getBytes(StandardCharsets.UTF_8), value);
    r.headers().add("frame-id", id.getBytes(StandardCharsets.UTF_8));
    headers.forEach((k, v) -> r.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
    return r;
  }
}
