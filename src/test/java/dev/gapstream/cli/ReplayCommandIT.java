package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code replay} sends dead letters' frames back to the frames topic: as an operator uses it, after
 * raising a limit that rejected them, and what it sends, passes over and cannot send, on dead
 * letters written by hand; with {@code -b} or with the service's configuration.
 */
@ExtendWith(BlockedThreadGuard.class)
class ReplayCommandIT {

  /**
   * A pipeline that takes frames of at most 10,000 pixels dead-letters four 320x240 frames as
   * {@code too-large} and a broken one as {@code decode-error}; restarted with the default limit,
   * it predicts the four once {@code replay --reason too-large} sends them back, and the broken
   * frame stays where it is.
   */
  @Test
  void framesRejectedAsTooLargeArePredictedOnceTheLimitIsRaisedAndTheyAreReplayed() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(2);
        Admin admin = broker.admin();
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      String bootstrap = broker.bootstrapServers();
      FrameFeed small = new FrameFeed(bootstrap, "frames", "small", 2, FrameFeed.jpegs(4, 64, 64, 1));
      FrameFeed large = new FrameFeed(bootstrap, "frames", "large", 2, FrameFeed.jpegs(4, 320, 240, 2));
      List<String> smallIds = small.ids(4);
      List<String> largeIds = large.ids(4);
      try (GapstreamService strict =
          TestPipelines.start(Map.of("kafka.bootstrap.servers", bootstrap, "ingest.max.pixels", "10000"))) {
        small.send(0, 4, 0);
        large.send(0, 4, 0);
        try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of())) {
          ProducerRecord<byte[], byte[]> broken = new ProducerRecord<>("frames", bytes("camera-0"), bytes("not a jpeg"));
          broken.headers().add("frame-id", bytes("broken-0")).add("content-type", bytes("image/jpeg"));
          producer.send(broken).get();
        }
        await().atMost(Duration.ofMinutes(1)).until(() ->
            smallIds.stream().allMatch(id -> out.predictions(id) == 1)
                && largeIds.stream().allMatch(id -> out.deadLetters(id).size() == 1)
                && out.deadLetters("broken-0").size() == 1);
        assertEverythingCommitted(admin, strict.config().kafka().groupId());
      }
      assertThat(largeIds).allSatisfy(id ->
          assertThat(Outputs.header(out.deadLetters(id).get(0), "dlq-reason")).isEqualTo("too-large"));

      try (GapstreamService relaxed = TestPipelines.start(Map.of("kafka.bootstrap.servers", bootstrap))) {
        CliRun run = CliRun.of("replay", "-b", bootstrap, "--reason", "too-large");
        JsonNode summary = run.report();
        System.out.println("replay: " + summary);

        assertThat(summary.path("read").asLong()).isEqualTo(5);
        assertThat(summary.path("replayed").path("too-large").asLong()).isEqualTo(4);
        assertThat(summary.path("passedOver").path("decode-error").asLong()).isEqualTo(1);
        assertThat(summary.path("sent").asLong()).isEqualTo(4);
        assertThat(summary.path("failed").asLong()).isZero();
        await().atMost(Duration.ofMinutes(1)).until(() -> largeIds.stream().allMatch(id -> out.predictions(id) == 1));
        List<String> all = new ArrayList<>(smallIds);
        all.addAll(largeIds);
        Outputs.Tally settled = out.settle(all, Duration.ofSeconds(2));
        assertThat(settled.duplicates()).as(settled.toString()).isZero();
        assertThat(out.predictions("broken-0")).isZero();
        assertThat(out.deadLetters("broken-0")).hasSize(1);
        assertEverythingCommitted(admin, relaxed.config().kafka().groupId());
      }
    }
  }

  /**
   * Five dead letters written by hand: one from two hours ago, three with their frames (one with a
   * {@code frame-id}, one without, one of 2 MiB), one sent without its frame. {@code --since PT1H} replays the
   * two recent frames as they first came — key, value and headers, no {@code dlq-*} header, the
   * frame id kept — and names where the frame without bytes is; {@code --dry-run} counts all four
   * and sends nothing.
   */
  @Test
  void replaysFramesAsTheyCameAndNamesWhatItCannotReplay() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1)) {
      String bootstrap = broker.bootstrapServers();
      broker.createTopic("replayed", 1);
      try (Admin admin = broker.admin()) {
        KafkaState.setMaxMessageBytes(admin, "frames.dlq", 4 << 20);
        KafkaState.setMaxMessageBytes(admin, "replayed", 4 << 20);
      }
      long now = System.currentTimeMillis();
      byte[] large = new byte[2 << 20]; // over Kafka's default 1 MiB request, as a 4K PNG would be
      new java.util.Random(7).nextBytes(large);
      try (KafkaProducer<byte[], byte[]> producer =
          FrameFeed.producer(bootstrap, Map.of("max.request.size", String.valueOf(4 << 20)))) {
        producer.send(letter(now - Duration.ofHours(2).toMillis(), "camera-1", "old frame", "decode-error",
            "frames-0-1", Map.of("frame-id", "old-1"))).get();
        producer.send(letter(now, "camera-2", "named frame", "too-large", "frames-0-7",
            Map.of("frame-id", "cam-2-7", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))).get();
        producer.send(letter(now, "camera-3", "unnamed frame", "too-large", "frames-1-42", Map.of())).get();
        ProducerRecord<byte[], byte[]> omitted =
            letter(now, "camera-4", null, "too-large", "frames-0-9", Map.of("frame-id", "big-9"));
        omitted.headers().add("dlq-payload-omitted", bytes("9000000 bytes, over the 8388608 a dead letter carries"));
        producer.send(omitted).get();
        ProducerRecord<byte[], byte[]> big = letter(now, "camera-5", null, "too-large", "frames-1-50", Map.of());
        producer.send(new ProducerRecord<>(big.topic(), null, big.timestamp(), big.key(), large, big.headers())).get();
      }

      JsonNode summary = CliRun.of("replay", "-b", bootstrap, "--to", "replayed", "--since", "PT1H").report();

      assertThat(summary.path("read").asLong()).isEqualTo(4);
      assertThat(summary.path("replayed").path("too-large").asLong()).isEqualTo(3);
      assertThat(summary.path("sent").asLong()).isEqualTo(3);
      assertThat(summary.path("failed").asLong()).isZero();
      assertThat(summary.path("withoutFrame").asLong()).isEqualTo(1);
      assertThat(summary.path("withoutFrameSources").get(0).asText()).isEqualTo("frames-0-9");
      List<ConsumerRecord<byte[], byte[]>> replayed = read(bootstrap, "replayed", 3);
      assertThat(replayed).hasSize(3);
      assertThat(replayed.subList(0, 2)).extracting(r -> text(r.key()) + ": " + text(r.value()))
          .containsExactly("camera-2: named frame", "camera-3: unnamed frame");
      assertThat(replayed.get(2).value()).as("a frame over 1 MiB goes back whole").isEqualTo(large);
      assertThat(headers(replayed.get(0))).containsExactlyInAnyOrder(
          "content-type=image/jpeg", "frame-id=cam-2-7",
          "traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
      assertThat(headers(replayed.get(1)))
          .as("the id the pipeline gave the frame, where it read it")
          .containsExactlyInAnyOrder("content-type=image/jpeg", "frame-id=frames-1-42");

      // Without -b, as in the service's pod: the brokers and topics of its configuration.
      JsonNode dry = CliRun.of("replay", "--set", "kafka.bootstrap.servers=" + bootstrap,
          "--set", "topics.frames=replayed", "--dry-run").report();
      assertThat(dry.path("from").asText()).isEqualTo("frames.dlq");
      assertThat(dry.path("to").asText()).isEqualTo("replayed");
      assertThat(dry.path("read").asLong()).isEqualTo(5);
      assertThat(dry.path("replayed").path("too-large").asLong()).isEqualTo(3);
      assertThat(dry.path("replayed").path("decode-error").asLong()).isEqualTo(1);
      assertThat(dry.path("sent").asLong()).isZero();
      assertThat(read(bootstrap, "replayed", 3)).as("nothing more sent").hasSize(3);

      // An exactly-once service's configuration, with its own kafka.producer.transactional.id:
      // replay's producer, which is not transactional, leaves it out (it failed its first send with it).
      JsonNode again = CliRun.of("replay", "--set", "kafka.bootstrap.servers=" + bootstrap,
          "--set", "topics.frames=replayed", "--set", "delivery.guarantee=exactly-once",
          "--set", "kafka.producer.transactional.id=gapstream-replica-1", "--since", "PT1H").report();
      assertThat(again.path("sent").asLong()).isEqualTo(3);
      assertThat(again.path("failed").asLong()).isZero();
      assertThat(read(bootstrap, "replayed", 6)).hasSize(6);
    }
  }

  /**
   * Records without a {@code dlq-reason} are not dead letters and are never sent: {@code --from
   * predictions} replayed every prediction's JSON into the frames topic as a frame.
   */
  @Test
  void recordsThatAreNotDeadLettersArePassedOver() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1)) {
      String bootstrap = broker.bootstrapServers();
      broker.createTopic("replayed", 1);
      long now = System.currentTimeMillis();
      try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of())) {
        producer.send(new ProducerRecord<>("predictions", null, now, bytes("camera-1"), bytes("{\"label\":\"circle\"}"))).get();
        producer.send(letter(now, "camera-2", "a frame", "decode-error", "frames-0-3", Map.of())).get();
        producer.send(new ProducerRecord<>("frames.dlq", null, now, bytes("camera-3"), bytes("no headers"))).get();
      }

      JsonNode predictions = CliRun.of("replay", "-b", bootstrap, "--from", "predictions", "--to", "replayed").report();
      assertThat(predictions.path("read").asLong()).isEqualTo(1);
      assertThat(predictions.path("sent").asLong()).isZero();
      assertThat(predictions.path("replayed").size()).isZero();
      assertThat(predictions.path("passedOver").path("(no dlq-reason)").asLong()).isEqualTo(1);

      JsonNode letters = CliRun.of("replay", "-b", bootstrap, "--to", "replayed").report();
      assertThat(letters.path("read").asLong()).isEqualTo(2);
      assertThat(letters.path("sent").asLong()).isEqualTo(1);
      assertThat(letters.path("passedOver").path("(no dlq-reason)").asLong()).isEqualTo(1);
      assertThat(read(bootstrap, "replayed", 1)).extracting(r -> text(r.value())).containsExactly("a frame");
    }
  }

  @Test
  void anUnknownReasonOrTopicIsAUsageError() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1)) {
      CliRun reason = CliRun.of("replay", "-b", broker.bootstrapServers(), "--reason", "blurry");
      assertThat(reason.code()).isEqualTo(2);
      assertThat(reason.err()).contains("--reason: unknown dlq-reason 'blurry'; one of [bad-shape, decode-error,");

      CliRun since = CliRun.of("replay", "-b", broker.bootstrapServers(), "--since", "yesterday");
      assertThat(since.code()).isEqualTo(2);
      assertThat(since.err()).contains("--since: 'yesterday' is neither an instant");

      CliRun topic = CliRun.of("replay", "-b", broker.bootstrapServers(), "--from", "no.such.dlq");
      assertThat(topic.code()).isEqualTo(2);
      assertThat(topic.err()).contains("--from: topic 'no.such.dlq' does not exist");
      try (Admin admin = broker.admin()) {
        // The broker creates topics on demand (Kafka's default): the consumer used to ask it to.
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain("no.such.dlq");
      }

      // With -b the configuration's topics still apply (they were the standard names, frames.dlq here).
      CliRun configured = CliRun.of("replay", "-b", broker.bootstrapServers(), "--set", "topics.dlq=cams.dlq");
      assertThat(configured.code()).isEqualTo(2);
      assertThat(configured.err()).contains("--from: topic 'cams.dlq' does not exist");

      // --from mistyped as the frames topic: replayed onto itself, every frame twice.
      CliRun itself = CliRun.of("replay", "-b", broker.bootstrapServers(), "--from", "frames");
      assertThat(itself.code()).isEqualTo(2);
      assertThat(itself.err()).contains("--from and --to are both topic 'frames'");

      CliRun noWait = CliRun.of("replay", "-b", broker.bootstrapServers(), "--idle-timeout", "PT0S");
      assertThat(noWait.code()).isEqualTo(2);
      assertThat(noWait.err()).contains("--idle-timeout must be positive, was PT0S");

      CliRun noBroker = CliRun.of("replay", "--set", "kafka.bootstrap.servers=");
      assertThat(noBroker.code()).isEqualTo(2);
      assertThat(noBroker.err()).contains("replay needs a broker: -b HOST:PORT, or kafka.bootstrap.servers");
    }
  }

  /**
   * Brokers that do not answer, in a dry run (which looks up no topic to send to): the run fails
   * naming them and the topic. Before, after 30 s: "Timeout expired while fetching topic metadata".
   */
  @Test
  void brokersThatDoNotAnswerAreNamed() {
    // -X default.api.timeout.ms: the wait, 15 s by default, is the consumer's own setting
    CliRun run = CliRun.of("replay", "-b", "127.0.0.1:1", "--dry-run", "-X", "default.api.timeout.ms=2000");
    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("cannot read dead letters from topic 'frames.dlq' at 127.0.0.1:1 (do the brokers answer?)");
  }

  /**
   * A signal while the replay waits for brokers that do not answer: the summary, nothing read,
   * exit 143. Before, the woken consumer's wake-up was reported as "cannot read dead letters from
   * topic 'frames.dlq' ... (do the brokers answer?): null", and no summary.
   */
  @Test
  void aSignalWhileWaitingForTheBrokersGivesTheSummary(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    Process replay = CliRun.start(out, err, "replay", "-b", "127.0.0.1:1", "--dry-run", "-X", "default.api.timeout.ms=120000");
    try {
      // The consumer is trying the broker (its warning logged on stdout, as the tests' logback has
      // it): the hook that wakes it is in place.
      await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(out).contains("could not be established"));
      replay.destroy(); // SIGTERM
      assertThat(replay.waitFor(1, TimeUnit.MINUTES)).isTrue();
    } finally {
      replay.destroyForcibly();
    }
    assertThat(replay.exitValue()).as(Files.readString(err)).isEqualTo(143);
    assertThat(Files.readString(err)).doesNotContain("cannot read dead letters");
    String json = Files.readAllLines(out).stream().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("");
    JsonNode summary = new ObjectMapper().readTree(json);
    assertThat(summary.path("interrupted").asBoolean()).as(Files.readString(out)).isTrue();
    assertThat(summary.path("read").asLong()).isZero();
  }

  private static void assertEverythingCommitted(Admin admin, String group) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(KafkaState.endOffsets(admin, "frames")));
  }

  /**
   * The brokers gone in the middle of a replay: it gives up once it has read nothing for {@code
   * --idle-timeout}, prints what it did and exits 1. Before, its consumer polled nothing for ever,
   * the end it took at the start never reached. Here the broker stops as the first dead letters come
   * in ({@link StopBrokerOnFirstRecords}), each fetch bringing one of twenty.
   */
  @Test
  void aReplayWhoseBrokersGoAwayGivesUp() throws Exception {
    EmbeddedKafka broker = KafkaState.brokerWithTopics(1);
    try {
      String bootstrap = broker.bootstrapServers();
      try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of())) {
        for (int i = 0; i < 20; i++) {
          producer.send(letter(System.currentTimeMillis(), "camera-" + i, "frame " + i, "decode-error", "frames-0-" + i, Map.of())).get();
        }
      }
      StopBrokerOnFirstRecords.stop = broker::close;
      CliRun run = CompletableFuture.supplyAsync(() -> CliRun.of(
              "replay", "-b", bootstrap, "--dry-run", "--idle-timeout", "PT3S",
              "-X", "max.partition.fetch.bytes=1",
              "-X", "interceptor.classes=" + StopBrokerOnFirstRecords.class.getName()))
          .get(2, TimeUnit.MINUTES);

      assertThat(run.code()).as(run.err()).isEqualTo(1);
      assertThat(run.err()).contains("replay: gave up: read nothing for PT3S with ")
          .contains("dead letters left to read: do the brokers at " + bootstrap + " answer? (--idle-timeout)");
      assertThat(run.json().path("read").asLong()).isBetween(1L, 19L);
    } finally {
      StopBrokerOnFirstRecords.stop = () -> {};
      broker.close();
    }
  }

  /**
   * Dead letters deleted while a replay reads them (retention, or deleted records): it counts them,
   * goes on from the first one left, and exits 1 naming the loss. Before, the consumer's default
   * {@code auto.offset.reset=latest} jumped to the end of the partition without a word, skipping
   * every dead letter after the deleted ones too, and the replay exited 0. Here the first twelve of
   * twenty are deleted as the first comes in, each fetch bringing one (a dry run: -X sets both
   * clients, and the interceptor is a consumer's). The client settings say {@code latest}, as a
   * service's may: the replay's own setting holds over them.
   */
  @Test
  void deadLettersDeletedUnderAReplayAreCountedAndTheRestReplayed() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1); Admin admin = broker.admin()) {
      String bootstrap = broker.bootstrapServers();
      try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of())) {
        for (int i = 0; i < 20; i++) {
          producer.send(letter(System.currentTimeMillis(), "camera-" + i, "frame " + i, "decode-error", "frames-0-" + i, Map.of())).get();
        }
      }
      TopicPartition dlq = new TopicPartition("frames.dlq", 0);
      StopBrokerOnFirstRecords.stop = () -> {
        try {
          admin.deleteRecords(Map.of(dlq, RecordsToDelete.beforeOffset(12))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      CliRun run = CompletableFuture.supplyAsync(() -> CliRun.of(
              "replay", "-b", bootstrap, "--dry-run",
              "-X", "max.partition.fetch.bytes=1",
              "-X", "auto.offset.reset=latest",
              "-X", "interceptor.classes=" + StopBrokerOnFirstRecords.class.getName()))
          .get(2, TimeUnit.MINUTES);

      assertThat(run.code()).as(run.err()).isEqualTo(1);
      long read = run.json().path("read").asLong();
      long deleted = run.json().path("deleted").asLong();
      assertThat(read).as(run.err() + run.json()).isBetween(9L, 12L); // the 8 left, and the 1-4 read or fetched before
      assertThat(read + deleted).isEqualTo(20);
      assertThat(run.json().path("replayed").path("decode-error").asLong()).isEqualTo(read);
      assertThat(run.err()).contains("replay: " + deleted + " offsets were deleted before they were read");
      assertThat(run.err()).contains("up to " + deleted + " dead letters, whose frames are lost");
    } finally {
      StopBrokerOnFirstRecords.stop = () -> {};
    }
  }

  /**
   * SIGTERM (or Ctrl-C) in the middle of a replay: it stops reading, sends what it has read, and
   * prints its summary, {@code "interrupted": true}, before the JVM exits. Before, it exited at once
   * with records in the producer's buffer and no word of how far it had got. Each of the 3,000
   * dead letters is a record batch of its own (batch.size=1), and a fetch brings one batch
   * (max.partition.fetch.bytes=1), so the replay is still reading when the signal comes.
   */
  @Test
  void aSignalledReplaySaysHowFarItGot(@TempDir Path dir) throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(1)) {
      String bootstrap = broker.bootstrapServers();
      broker.createTopic("replayed", 1);
      try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(bootstrap, Map.of("batch.size", "1"))) {
        for (int i = 0; i < 3000; i++) {
          producer.send(letter(System.currentTimeMillis(), "camera-" + i, "frame " + i, "decode-error", "frames-0-" + i, Map.of()));
        }
      }
      Path out = dir.resolve("out");
      Path err = dir.resolve("err");
      Process replay = CliRun.start(out, err, "replay", "-b", bootstrap, "--to", "replayed", "-X", "max.partition.fetch.bytes=1");
      try {
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(err).contains("replay ["));
        replay.destroy(); // SIGTERM
        assertThat(replay.waitFor(1, TimeUnit.MINUTES)).isTrue();
      } finally {
        replay.destroyForcibly();
      }

      JsonNode summary = new ObjectMapper().readTree(Files.readString(out));
      assertThat(replay.exitValue()).as(Files.readString(err)).isEqualTo(143); // 128 + SIGTERM
      assertThat(summary.path("interrupted").asBoolean()).as(summary.toString()).isTrue();
      long read = summary.path("read").asLong();
      assertThat(read).isBetween(1L, 2999L);
      assertThat(summary.path("sent").asLong()).as("every frame read was sent before the exit").isEqualTo(read);
      assertThat(Files.readString(err)).contains("replay: stopped by a signal after reading " + read + " dead letters");
      assertThat(read(bootstrap, "replayed", (int) read)).hasSize((int) read);
    }
  }

  /** A consumer interceptor that runs {@link #stop} once, when the first records come in. */
  public static final class StopBrokerOnFirstRecords implements ConsumerInterceptor<byte[], byte[]> {
    static volatile Runnable stop = () -> {};
    private boolean stopped;

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
      if (!stopped && !records.isEmpty()) {
        stopped = true;
        stop.run();
      }
      return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  /** A dead letter as the pipeline writes one: the frame's own headers, then the {@code dlq-*} ones. */
  private static ProducerRecord<byte[], byte[]> letter(
      long timestamp, String key, String value, String reason, String source, Map<String, String> frameHeaders) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>("frames.dlq", null, timestamp, bytes(key), value == null ? null : bytes(value));
    r.headers().add("content-type", bytes("image/jpeg"));
    frameHeaders.forEach((k, v) -> r.headers().add(k, bytes(v)));
    r.headers().add("dlq-reason", bytes(reason));
    r.headers().add("dlq-error", bytes(reason + ": as written by hand"));
    r.headers().add("dlq-source", bytes(source));
    return r;
  }

  private static List<ConsumerRecord<byte[], byte[]>> read(String bootstrap, String topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-it-" + System.nanoTime());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic));
      // A new group's join and first fetch: 30 s, as ProduceCommandIT's reader has, for a loaded
      // machine (the loop ends as soon as the records are in).
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        if (records.size() >= count) {
          break; // and then one more poll's worth would show any extra: the callers count exactly
        }
      }
      consumer.poll(Duration.ofMillis(500)).forEach(records::add);
    }
    return records;
  }

  private static List<String> headers(ConsumerRecord<byte[], byte[]> r) {
    List<String> out = new ArrayList<>();
    for (Header h : r.headers()) {
      out.add(h.key() + "=" + text(h.value()));
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
