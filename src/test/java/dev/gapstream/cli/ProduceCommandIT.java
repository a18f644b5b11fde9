package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.Main;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.TestPipelines;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ClusterResource;
import org.apache.kafka.common.ClusterResourceListener;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code produce} sends a directory's images to a topic, as a camera's frames: each file once per
 * {@code --repeat}, keyed by {@code -k} or its name, its {@code frame-id} its name, its {@code
 * content-type} that of its bytes; other files, hidden ones and directories are left alone.
 * {@code -X} carries client settings, here a SASL listener's.
 */
@ExtendWith(BlockedThreadGuard.class)
class ProduceCommandIT {

  private static final String USER = "camera";
  private static final String PASSWORD = "pw-produce-1";
  private static EmbeddedKafka kafka;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() {
    // As most clusters are: a topic is created on purpose, not by the first client to name it.
    kafka = EmbeddedKafka.builder()
        .saslUsers(Map.of(USER, PASSWORD))
        .brokerProperty("auto.create.topics.enable", "false")
        .start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void sendsEveryImageWithItsNameAndTypeOverSasl() throws Exception {
    kafka.createTopic("produced-frames", 2);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.write(dir.resolve("b.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    Files.writeString(dir.resolve("notes.txt"), "not a frame");

    CliRun run =
        CliRun.of(
            "produce", dir.toString(), "-b", kafka.saslBootstrapServers(), "-t", "produced-frames",
            "--repeat", "2",
            "-X", "security.protocol=SASL_PLAINTEXT",
            "-X", "sasl.mechanism=PLAIN",
            "-X", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"" + USER + "\" password=\"" + PASSWORD + "\";");

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(recordsIn("produced-frames")).as("the text file stays home").isEqualTo(4);
    long jpegBytes = Files.size(dir.resolve("a.jpg"));
    assertThat(described(read("produced-frames", 4)))
        .containsExactlyInAnyOrder(
            "a.jpg a.jpg#1 image/jpeg " + jpegBytes,
            "a.jpg a.jpg#2 image/jpeg " + jpegBytes,
            "b.png b.png#1 image/png 4", // too short to sniff: typed by its extension
            "b.png b.png#2 image/png 4");
  }

  /**
   * A camera's directory under its key: each frame's {@code frame-id} still names its file, and a
   * PNG saved as {@code .jpg} goes as the PNG it is (the pipeline trusts the header over the bytes,
   * and would dead-letter it undecodable as JPEG); a hidden file and a directory named as images
   * stay home.
   */
  @Test
  void aKeyNamesTheCameraAndEachFrameIsTypedByItsBytes() throws Exception {
    kafka.createTopic("camera-frames", 1);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    BufferedImage pixels = new BufferedImage(16, 12, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(pixels, "png", png);
    Files.write(dir.resolve("c.jpg"), png.toByteArray());
    Files.write(dir.resolve("._a.jpg"), new byte[] {0, 5, 22, 7});
    Files.createDirectory(dir.resolve("d.jpg"));

    CliRun run = CliRun.of(
        "produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "camera-frames", "-k", "cam-7");

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(recordsIn("camera-frames")).isEqualTo(2);
    assertThat(described(read("camera-frames", 2)))
        .containsExactly(
            "cam-7 a.jpg image/jpeg " + Files.size(dir.resolve("a.jpg")),
            "cam-7 c.jpg image/png " + png.size());
  }

  @Test
  void aDirectoryWithoutImagesSendsNothingAndSaysSo() throws Exception {
    Files.writeString(dir.resolve("readme.md"), "no frames here");

    CliRun run = CliRun.of("produce", dir.toString(), "-b", kafka.bootstrapServers());

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("no images in " + dir);
  }

  /**
   * A topic that does not exist (or brokers that do not answer) fails the command once, naming the
   * topic, after {@code max.block.ms} (15 s by default, 2 here); Kafka's default, a minute a send,
   * took a directory of a hundred images an hour and a half to report.
   */
  @Test
  void aTopicThatDoesNotExistIsReportedOnceNamingIt() throws Exception {
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.write(dir.resolve("b.jpg"), FrameFeed.jpegs(1, 64, 48, 2).get(0));

    CliRun run = CliRun.of(
        "produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "no-such-topic", "-X", "max.block.ms=2000");

    assertThat(run.code()).as("refused before any work").isEqualTo(2);
    assertThat(run.err()).containsOnlyOnce("--topic: cannot send to topic 'no-such-topic' (does it exist");
  }

  /**
   * The brokers gone in the middle of a run: once a frame's delivery times out, produce stops
   * sending, says why and how many frames it left, and exits 1. Before, each further batch waited
   * out the delivery timeout in turn (2 minutes by default), for hours with a large --repeat. The
   * run's first failure is another: a file over the broker's message.max.bytes (1 MiB), refused
   * before the brokers go; that must not hide the timeouts after it.
   */
  @Test
  void aRunWhoseBrokersGoAwayGivesUp() throws Exception {
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    byte[] tooLarge = new byte[1536 * 1024];
    new java.util.Random(7).nextBytes(tooLarge); // incompressible, whatever the producer's settings
    Files.write(dir.resolve("0-too-large.jpg"), tooLarge);
    EmbeddedKafka broker = KafkaState.brokerWithTopics(1);
    try {
      String bootstrap = broker.bootstrapServers();
      CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.of(
          "produce", dir.toString(), "-b", bootstrap, "--repeat", "100000", "--rate", "200",
          "-X", "delivery.timeout.ms=2000", "-X", "request.timeout.ms=1000", "-X", "linger.ms=0"));
      try (Admin admin = broker.admin()) {
        TopicPartition frames = new TopicPartition("frames", 0);
        await().atMost(Duration.ofMinutes(1)).until(() ->
            admin.listOffsets(Map.of(frames, OffsetSpec.latest())).all().get().get(frames).offset() > 20);
      }
      broker.close();

      CliRun done = run.get(2, TimeUnit.MINUTES);
      assertThat(done.code()).as(done.err()).isEqualTo(1);
      assertThat(done.err()).contains("produce: gave up: a frame's delivery timed out: do the brokers at " + bootstrap
          + " answer?").contains("of 200000 frames left unsent");
      assertThat(done.err()).contains("the first because: org.apache.kafka.common.errors.RecordTooLargeException");
    } finally {
      broker.close();
    }
  }

  /**
   * A file that cannot be read refuses the directory before anything is sent, naming the file
   * (exit 2, as {@code load --images} refuses it). Before, the frames ahead of it went, and the run
   * failed at its turn with exit 1. A link to {@code /proc/self/mem} is a regular file that cannot be
   * read even by root, as these tests may run (mode 000 does not stop root).
   */
  @Test
  void aFileThatCannotBeReadIsRefusedBeforeAnyIsSent() throws Exception {
    kafka.createTopic("unreadable-frames", 1);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.createSymbolicLink(dir.resolve("c.jpg"), Path.of("/proc/self/mem"));

    CliRun run = CliRun.of("produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "unreadable-frames");

    assertThat(run.code()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("DIR: cannot read c.jpg in " + dir + ": Input/output error");
    assertThat(recordsIn("unreadable-frames")).as("nothing sent").isZero();
  }

  /**
   * A file deleted in the middle of a run: it stops there, ends the bar's line, and says how many
   * frames went before it, each of them on the topic (exit 1). Before, the error was glued to the
   * unfinished bar, with no word of what had gone.
   */
  @Test
  void aFileGoneInTheMiddleOfARunStopsItSayingHowManyFramesWent() throws Exception {
    kafka.createTopic("vanishing-frames", 1);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.write(dir.resolve("b.jpg"), FrameFeed.jpegs(1, 64, 48, 2).get(0));
    CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.of(
        "produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "vanishing-frames",
        "--repeat", "100000", "--rate", "100"));
    try {
      await().atMost(Duration.ofMinutes(1)).until(() -> recordsIn("vanishing-frames") > 10);
    } finally {
      // Also where the wait failed: the run stops at the missing file, not 33 minutes on in this JVM.
      Files.delete(dir.resolve("b.jpg"));
    }

    CliRun done = run.get(2, TimeUnit.MINUTES);
    assertThat(done.code()).as(done.err()).isEqualTo(1);
    Matcher end = Pattern.compile(
            "\\rproduce \\[[# ]+\\] (\\d+)/200000 [^\\r\\n]*\\n"
                + "produce: gave up: cannot read b\\.jpg in (.+) \\(no such file or directory\\),"
                + " which could be read at the start: (\\d+) of 200000 frames sent before it\\n")
        .matcher(done.err());
    assertThat(end.find()).as("the bar ended, then why and how far: %s", done.err()).isTrue();
    assertThat(end.group(2)).isEqualTo(dir.toString());
    assertThat(Long.parseLong(end.group(1))).as("acknowledged: every frame sent").isEqualTo(Long.parseLong(end.group(3)));
    assertThat(recordsIn("vanishing-frames")).isEqualTo(Long.parseLong(end.group(3)));
  }

  /**
   * SIGTERM (or Ctrl-C) in the middle of a run: it stops, sends the frames its producer holds, ends
   * the bar's line and says how many frames it sent and how many of them were acknowledged, before
   * the JVM exits 143. Before, it exited at once, the bar unfinished and the frames in the producer's
   * buffer dropped unsaid. Here the producer holds every frame until it closes (a minute's linger,
   * 256 KiB batches).
   */
  @Test
  void aSignalledRunSendsWhatItHoldsAndSaysHowFarItGot(@TempDir Path logs) throws Exception {
    kafka.createTopic("signalled-frames", 1);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.write(dir.resolve("b.jpg"), FrameFeed.jpegs(1, 64, 48, 2).get(0));
    Path out = logs.resolve("out");
    Path err = logs.resolve("err");
    Process produce = CliRun.start(out, err,
        "produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "signalled-frames",
        "--repeat", "100000", "--rate", "100", "-X", "linger.ms=60000", "-X", "batch.size=262144");
    try {
      await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(err).contains("produce ["));
      produce.destroy(); // SIGTERM
      assertThat(produce.waitFor(1, TimeUnit.MINUTES)).isTrue();
    } finally {
      produce.destroyForcibly();
    }

    String printed = Files.readString(err);
    assertThat(produce.exitValue()).as(printed).isEqualTo(143); // 128 + SIGTERM
    Matcher end = Pattern.compile(
            "\\rproduce \\[[# ]+\\] (\\d+)/200000 [^\\r\\n]*\\n"
                + "produce: stopped by a signal after sending (\\d+) of 200000 frames, (\\d+) of them acknowledged\\n")
        .matcher(printed);
    assertThat(end.find()).as("the bar ended, then how far: %s", printed).isTrue();
    long sent = Long.parseLong(end.group(2));
    assertThat(sent).isPositive();
    assertThat(Long.parseLong(end.group(3))).as("acknowledged").isEqualTo(sent);
    assertThat(Long.parseLong(end.group(1))).as("the bar's count").isEqualTo(sent);
    assertThat(recordsIn("signalled-frames")).as("none dropped").isEqualTo(sent);
  }

  /**
   * The rate the bar shows counts from the topic check, as the send schedule does. It counted from
   * before the producer was made, so the producer's start and its wait for the topic's metadata (up
   * to 15 s) read as time spent sending. Here that wait takes a day by the command's clock ({@link
   * DayLongMetadataWait}): counted, a hundred frames would show 0/s; not, at least 1/s, which takes
   * only that they go in under 200 s.
   */
  @Test
  void theRateShownCountsFromTheTopicCheck() throws Exception {
    kafka.createTopic("counted-frames", 1);
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    Files.write(dir.resolve("b.jpg"), FrameFeed.jpegs(1, 64, 48, 2).get(0));
    CommandLine cli = Main.commandLine();
    ((ProduceCommand) cli.getSubcommands().get("produce").getCommand()).nanoTime = DayLongMetadataWait::nanoTime;
    try {
      CliRun run = CliRun.on(cli,
          "produce", dir.toString(), "-b", kafka.bootstrapServers(), "-t", "counted-frames", "--repeat", "50",
          "-X", "interceptor.classes=" + DayLongMetadataWait.class.getName());

      assertThat(run.code()).as(run.err()).isZero();
      assertThat(DayLongMetadataWait.skipped.get()).as("the day passed").isPositive();
      Matcher end = Pattern.compile("\\rproduce \\[#+\\] 100/100  (\\d+)/s\\n").matcher(run.err());
      assertThat(end.find()).as(run.err()).isTrue();
      assertThat(Long.parseLong(end.group(1))).as(run.err()).isPositive();
    } finally {
      DayLongMetadataWait.skipped.set(0);
    }
  }

  /**
   * A producer interceptor that moves {@link #nanoTime} a day on, once, at the producer's first
   * metadata: before the topic check, which waits for it, returns.
   */
  public static final class DayLongMetadataWait implements ProducerInterceptor<byte[], byte[]>, ClusterResourceListener {
    static final AtomicLong skipped = new AtomicLong();

    static long nanoTime() {
      return System.nanoTime() + skipped.get();
    }

    @Override
    public void onUpdate(ClusterResource cluster) {
      skipped.compareAndSet(0, TimeUnit.DAYS.toNanos(1));
    }

    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
      return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  @Test
  void badArgumentsAreUsageErrors() throws Exception {
    Files.write(dir.resolve("a.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    String broker = kafka.bootstrapServers();

    CliRun missing = CliRun.of("produce", dir.resolve("no-such-dir").toString(), "-b", broker);
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("no-such-dir is not a directory");

    CliRun repeat = CliRun.of("produce", dir.toString(), "-b", broker, "--repeat", "0");
    assertThat(repeat.code()).isEqualTo(2);
    assertThat(repeat.err()).contains("--repeat: at least 1, got 0");

    CliRun rate = CliRun.of("produce", dir.toString(), "-b", broker, "--rate", "-5");
    assertThat(rate.code()).isEqualTo(2);
    assertThat(rate.err()).contains("--rate: 0 (as fast as possible) or more");
    // What the client would drop unsaid (a misspelt setting) or report as "Failed to construct
    // kafka producer", named as the option that gave it.
    CliRun misspelt = CliRun.of("produce", dir.toString(), "-b", broker, "-X", "delivery.timout.ms=100");
    assertThat(misspelt.code()).isEqualTo(2);
    assertThat(misspelt.err())
        .contains("-X delivery.timout.ms: no Kafka client has this setting; did you mean delivery.timeout.ms?");

    CliRun badValue = CliRun.of("produce", dir.toString(), "-b", broker, "-X", "delivery.timeout.ms=abc");
    assertThat(badValue.code()).isEqualTo(2);
    assertThat(badValue.err()).contains("-X delivery.timeout.ms=abc: Invalid value abc");

    CliRun nowhere = CliRun.of("produce", dir.toString(), "-b", "no-such-host.invalid:9092");
    assertThat(nowhere.code()).isEqualTo(2);
    assertThat(nowhere.err()).contains("-b no-such-host.invalid:9092: No resolvable bootstrap urls");
  }

  /**
   * {@code run} on its embedded broker, and {@code produce} of a directory with a 2 MiB file among
   * small ones: the frame goes in whole (Kafka's defaults, a 1 MiB request and a 1 MB record batch,
   * refused it on both sides) and, undecodable, comes out whole in its dead letter, while the small
   * frame is predicted.
   */
  @Test
  void framesOverOneMebibyteGoInWholeAndComeOutInTheirDeadLetter() throws Exception {
    byte[] big = new byte[2 << 20];
    new Random(3).nextBytes(big);
    Files.write(dir.resolve("big.jpg"), big);
    Files.write(dir.resolve("small.jpg"), FrameFeed.jpegs(1, 64, 48, 1).get(0));
    try (GapstreamService service = TestPipelines.start(Map.of())) { // no brokers named: the embedded one
      CliRun run = CliRun.of("produce", dir.toString(), "-b", service.bootstrapServers());

      assertThat(run.code()).as(run.err()).isZero();
      List<ConsumerRecord<byte[], byte[]>> letters = read(service.bootstrapServers(), "frames.dlq", 1);
      assertThat(letters).hasSize(1);
      assertThat(text(letters.get(0).key())).isEqualTo("big.jpg");
      assertThat(letters.get(0).value()).as("the frame, whole").isEqualTo(big);
      assertThat(read(service.bootstrapServers(), "predictions", 1))
          .extracting(r -> text(r.key())).containsExactly("small.jpg");

      // The embedded broker makes no topic on first use: a misspelt one is an error, not a new
      // topic taking frames that nothing reads (it used to send 2/2 there and exit 0).
      CliRun misspelt = CliRun.of(
          "produce", dir.toString(), "-b", service.bootstrapServers(), "-t", "framez", "-X", "max.block.ms=2000");
      assertThat(misspelt.code()).isEqualTo(2);
      assertThat(misspelt.err()).contains("--topic: cannot send to topic 'framez'");
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", service.bootstrapServers()))) {
        assertThat(admin.listTopics().names().get()).doesNotContain("framez");
      }
    }
  }

  /** The records on every partition of {@code topic}, from its end offsets. */
  private static long recordsIn(String topic) throws Exception {
    try (Admin admin = kafka.admin()) {
      Map<TopicPartition, OffsetSpec> latest =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
              .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
      return admin.listOffsets(latest).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }
  }

  private static List<ConsumerRecord<byte[], byte[]>> read(String topic, int expected) {
    return read(kafka.bootstrapServers(), topic, expected);
  }

  private static List<ConsumerRecord<byte[], byte[]>> read(String bootstrap, String topic, int expected) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "produce-it-" + topic);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic));
      while (out.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  /** Each record as {@code key frame-id content-type bytes}. */
  private static List<String> described(List<ConsumerRecord<byte[], byte[]>> records) {
    List<String> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      out.add(text(r.key()) + " " + text(r.headers().lastHeader("frame-id").value()) + " "
          + text(r.headers().lastHeader("content-type").value()) + " " + r.value().length);
    }
    return out;
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
