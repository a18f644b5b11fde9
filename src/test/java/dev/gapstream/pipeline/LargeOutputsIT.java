package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.TestPipelines;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Outputs larger than their topics take. A prediction: with {@code cam.heatmap} a 640×480 frame's
 * prediction carries an 80×60 map (some 7 KB; at its own size, {@code ingest.resize.max.side=0}:
 * the shipped model's maxSide would scale it to 256×192 first), a 64×64 frame's an 8×8 one (under
 * 1 KB), and the
 * topic here takes 3,000 bytes. Such a prediction is dead-lettered ({@code too-large}, saying why),
 * and the frames behind it go on; before, the topic's refusal was retried for good, the partition's
 * later predictions waited behind it, and once the in-flight bound filled the pipeline stopped. A
 * dead letter: one larger than the dead-letter topic takes goes without its frame's bytes, in
 * exactly-once mode too.
 */
@ExtendWith(BlockedThreadGuard.class)
class LargeOutputsIT {

  private static final int TOPIC_LIMIT = 3_000;
  private static final int FRAMES = 12;

  /** At-least-once, the topic's limit lowered after start-up: the broker's refusal finds it. */
  @Test
  void aPredictionTheTopicRefusesAsTooLargeIsDeadLetteredAndTheFramesBehindItGoOn() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin();
        GapstreamService service = startAndJoin(broker, admin, Map.of("cam.heatmap", "true"));
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      String group = service.config().kafka().groupId();
      setPredictionsLimit(admin, TOPIC_LIMIT);

      List<String> large = sendMixed(broker.bootstrapServers(), "refused");
      List<String> ids = ids("refused");
      Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
      Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(2));
      System.out.println("refused as too large by the topic: " + settled);

      assertSmallPredictedLargeDeadLettered(out, settled, large, "was refused by topic 'predictions'");
      assertThat(done.lost()).isZero();
      assertThat(rejectedTooLarge(service)).isEqualTo(large.size());
      // Each refusal is a failed send too, under its own error (which the alert leaves out).
      assertThat(PromText.parse(TestPipelines.get(service, "/metrics").body()).value(
              "gapstream_publish_failures_total", Map.of("topic", "predictions", "error", "RecordTooLargeException")))
          .isEqualTo(large.size());
      assertCommittedToTheEnd(admin, group);
    }
  }

  /**
   * Exactly-once, the topic's limit set before start-up: the service reads it and dead-letters the
   * prediction before sending it. The broker's refusal would have doomed the transaction and stopped
   * the pipeline, and its restart met the same frame again.
   */
  @Test
  void exactlyOnceDeadLettersAPredictionOverTheTopicsLimitWithoutSendingIt() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin()) {
      setPredictionsLimit(admin, TOPIC_LIMIT);
      try (GapstreamService service =
              startAndJoin(broker, admin, Map.of("cam.heatmap", "true", "delivery.guarantee", "exactly-once"));
          Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"))) {
        String group = service.config().kafka().groupId();

        List<String> large = sendMixed(broker.bootstrapServers(), "checked");
        List<String> ids = ids("checked");
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
        Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(2));
        System.out.println("over the topic's limit, exactly-once: " + settled);

        assertSmallPredictedLargeDeadLettered(
            out, settled, large, "over the " + TOPIC_LIMIT + " that max.message.bytes of topic 'predictions' allows");
        assertThat(done.lost()).isZero();
        assertThat(TestPipelines.get(service, "/health/live").statusCode()).as("the pipeline went on").isEqualTo(200);
        assertThat(rejectedTooLarge(service)).isEqualTo(large.size());
        assertCommittedToTheEnd(admin, group);
      }
    }
  }

  /**
   * Exactly-once, the dead-letter topic taking 2 MB, set before start-up: an undecodable 3 MB frame's
   * dead letter goes without the frame's bytes, and the frame behind it is predicted. Before, only
   * at-least-once mode fell back so (on the broker's refusal); in exactly-once mode the refusal doomed
   * the transaction and stopped the pipeline, and every restart met the frame again.
   */
  @Test
  void exactlyOnceSendsADeadLetterOverItsTopicsLimitWithoutTheFrame() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin()) {
      KafkaState.setMaxMessageBytes(admin, "frames", 8 << 20);
      KafkaState.setMaxMessageBytes(admin, "frames.dlq", 2 << 20);
      try (GapstreamService service = startAndJoin(broker, admin, Map.of("delivery.guarantee", "exactly-once"));
          Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"));
          KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(
              broker.bootstrapServers(), Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20)))) {
        String group = service.config().kafka().groupId();
        byte[] undecodable = new byte[3_000_000];
        new Random(5).nextBytes(undecodable);
        undecodable[0] = (byte) 0xff; // a JPEG's first marker, then noise
        undecodable[1] = (byte) 0xd8;
        undecodable[2] = (byte) 0xff;
        producer.send(frame("three-mb", undecodable)).get();
        // Under the most a dead letter carries, but over the topic's 2 MB with a 700 KB header: without
        // its value, headers kept. A 2.5 MB header: without the frame's headers too. Before, neither
        // was measured whole, and the topic's refusal doomed the transaction.
        ProducerRecord<byte[], byte[]> bigHeaders = frame("big-headers", Arrays.copyOf(undecodable, 1_500_000));
        bigHeaders.headers().add("note", new byte[700_000]);
        producer.send(bigHeaders).get();
        ProducerRecord<byte[], byte[]> hugeHeaders = frame("huge-headers", Arrays.copyOf(undecodable, 10_000));
        hugeHeaders.headers().add("note", new byte[2_500_000]);
        RecordMetadata huge = producer.send(hugeHeaders).get();
        String hugeSource = "frames-" + huge.partition() + "-" + huge.offset(); // its frame-id goes too
        producer.send(frame("after", FrameFeed.jpegs(1, 64, 64, 9).get(0))).get();

        List<String> ids = List.of("three-mb", "big-headers", hugeSource, "after");
        Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
        System.out.println("a dead letter over its topic's limit, exactly-once: " + done);

        assertThat(done.lost()).as(done.toString()).isZero();
        assertThat(out.predictions("after")).isEqualTo(1);
        ConsumerRecord<byte[], byte[]> bare = out.deadLetters("three-mb").get(0);
        assertThat(Outputs.header(bare, "dlq-reason")).isEqualTo("decode-error");
        assertThat(bare.value()).as("a 3 MB frame's dead letter, over the topic's 2 MB").isNull();
        assertThat(Outputs.header(bare, "dlq-payload-omitted")).startsWith("3000000 bytes, over the");
        System.out.println("  dlq-payload-omitted: " + Outputs.header(bare, "dlq-payload-omitted"));
        ConsumerRecord<byte[], byte[]> withHeaders = out.deadLetters("big-headers").get(0);
        assertThat(withHeaders.value()).isNull();
        assertThat(withHeaders.headers().lastHeader("note").value()).hasSize(700_000);
        assertThat(Outputs.header(withHeaders, "dlq-payload-omitted"))
            .startsWith("1500000 bytes: with them the dead letter would take up to");
        ConsumerRecord<byte[], byte[]> withoutHeaders = out.deadLetters(hugeSource).get(0);
        assertThat(withoutHeaders.value()).isNull();
        assertThat(withoutHeaders.headers().lastHeader("note")).isNull();
        assertThat(Outputs.header(withoutHeaders, "dlq-headers-omitted")).startsWith("3 headers of ");
        assertThat(TestPipelines.get(service, "/health/live").statusCode()).as("the pipeline went on").isEqualTo(200);
        assertCommittedToTheEnd(admin, group);
      }
    }
  }

  /** A pipeline on {@code broker} with these settings, once its consumer has joined the group. */
  private static GapstreamService startAndJoin(EmbeddedKafka broker, Admin admin, Map<String, String> settings)
      throws Exception {
    Map<String, String> all = new HashMap<>(settings);
    all.put("kafka.bootstrap.servers", broker.bootstrapServers());
    all.put("ingest.resize.max.side", "0");
    GapstreamService service = TestPipelines.start(all);
    try {
      String group = service.config().kafka().groupId();
      await().atMost(Duration.ofMinutes(1)).until(() -> KafkaState.members(admin, group) == 1);
      return service;
    } catch (RuntimeException | Error e) {
      service.close();
      throw e;
    }
  }

  private static ProducerRecord<byte[], byte[]> frame(String id, byte[] value) {
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>("frames", "camera".getBytes(StandardCharsets.UTF_8), value);
    record.headers()
        .add("frame-id", id.getBytes(StandardCharsets.UTF_8))
        .add("content-type", "image/jpeg".getBytes(StandardCharsets.UTF_8));
    return record;
  }

  /** Frames 0..11 of one camera, every third one 640×480, the rest 64×64; returns the large ones' ids. */
  private static List<String> sendMixed(String bootstrap, String run) throws Exception {
    byte[] small = FrameFeed.jpegs(1, 64, 64, 3).get(0);
    byte[] big = FrameFeed.jpegs(1, 640, 480, 4).get(0);
    List<String> large = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of())) {
      for (int i = 0; i < FRAMES; i++) {
        String id = run + "-" + i;
        boolean isLarge = i % 3 == 1;
        producer.send(frame(id, isLarge ? big : small)).get();
        if (isLarge) {
          large.add(id);
        }
      }
    }
    return large;
  }

  private static List<String> ids(String run) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < FRAMES; i++) {
      ids.add(run + "-" + i);
    }
    return ids;
  }

  private static void assertSmallPredictedLargeDeadLettered(
      Outputs out, Outputs.Tally tally, List<String> large, String why) {
    assertThat(tally.predicted()).as(tally.toString()).isEqualTo(FRAMES - large.size());
    assertThat(tally.deadLettered()).as(tally.toString()).isEqualTo(large.size());
    assertThat(tally.duplicates()).as(tally.toString()).isZero();
    for (String id : large) {
      assertThat(out.predictions(id)).as(id).isZero();
      ConsumerRecord<byte[], byte[]> letter = out.deadLetters(id).get(0);
      assertThat(Outputs.header(letter, "dlq-reason")).isEqualTo("too-large");
      assertThat(Outputs.header(letter, "dlq-error")).contains(why);
      assertThat(letter.value()).as("the frame itself, for a replay").isNotEmpty();
    }
    System.out.println("  dlq-error: " + Outputs.header(out.deadLetters(large.get(0)).get(0), "dlq-error"));
  }

  private static double rejectedTooLarge(GapstreamService service) throws Exception {
    return PromText.parse(TestPipelines.get(service, "/metrics").body())
        .value("gapstream_frames_rejected_total", Map.of("reason", "too-large"));
  }

  private static void assertCommittedToTheEnd(Admin admin, String group) throws Exception {
    var ends = new HashMap<>(KafkaState.endOffsets(admin, "frames"));
    ends.values().removeIf(end -> end == 0);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(ends));
  }

  private static void setPredictionsLimit(Admin admin, int bytes) throws Exception {
    KafkaState.setMaxMessageBytes(admin, "predictions", bytes);
  }
}
