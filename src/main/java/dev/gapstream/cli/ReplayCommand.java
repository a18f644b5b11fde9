package dev.gapstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.GapstreamException;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.publish.PredictionPublisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code replay}: sends dead letters' frames back to the frames topic once what rejected them is
 * fixed (a limit raised, a model replaced, a topic's ACL granted). Reads the dead-letter topic from
 * its start (or {@code --since}) to its end as it is when the command starts, so frames rejected
 * again meanwhile wait for the next replay instead of going round for ever. Each frame goes back
 * with its key, value and headers, without the {@code dlq-*} ones, and keeps its frame id: where
 * the frame had no {@code frame-id} header, the pipeline had named it by where it was read ({@code
 * dlq-source}), and the replayed frame carries that name, so its prediction answers the original
 * frame. Dead letters sent without the frame ({@code dlq-payload-omitted}) cannot be replayed: the
 * summary names where their frames are.
 *
 * <p>Where the service runs it needs no options: without {@code -b} it takes the brokers, the
 * clients' settings ({@code kafka.consumer.*}, {@code kafka.producer.*}: security) and the topics
 * from the service's configuration, loaded as {@code run} loads it.
 *
 * <p>No consumer group: replaying a range twice sends its frames twice (at-least-once, as the
 * pipeline itself is); {@code --since} and {@code --reason} choose what goes.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = "Send frames from the dead-letter topic back to the frames topic (once the cause is fixed),"
        + " then print a JSON summary.")
public final class ReplayCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofMillis(500);
  /** How long a signal waits for the summary before the JVM exits. */
  private static final Duration SIGNAL_WAIT = Duration.ofSeconds(30);
  /**
   * What {@link #call()} returns once a signal stopped it: 128 + SIGINT, as a shell reports Ctrl-C.
   * Under a real signal the JVM exits with its own status, 128 + the signal's number (130 for
   * Ctrl-C, 143 for SIGTERM); this value shows where the command runs in a JVM it does not end.
   */
  private static final int SIGNALLED = 130;
  /** Dead letters without their frame listed by source in the summary; the rest only counted. */
  private static final int LISTED = 20;

  /** Where records without a {@code dlq-reason} are counted in {@code passedOver}: never replayed. */
  static final String NOT_A_DEAD_LETTER = "(no dlq-reason)";

  @Option(
      names = {"-b", "--bootstrap-servers"},
      description = "Kafka bootstrap servers, with -X client settings. Without it, the service's own configuration"
          + " (--config, GAPSTREAM_* environment, --set) gives the brokers and its kafka.consumer.* and"
          + " kafka.producer.* settings: where the service runs, `replay` needs no other setting. The topics come"
          + " from the configuration either way.")
  String bootstrapServers;

  @Option(
      names = {"-X", "--property"},
      paramLabel = "KEY=VALUE",
      description = "A Kafka client property for both clients (repeatable), e.g. -X security.protocol=SASL_SSL.")
  Map<String, String> properties = new LinkedHashMap<>();

  @Mixin ConfigOptions config;

  @Option(names = "--from", description = "Dead-letter topic (default: topics.dlq, frames.dlq).")
  String from;

  @Option(names = {"-t", "--to"}, description = "Frames topic (default: topics.frames, frames).")
  String to;

  @Option(
      names = "--reason",
      paramLabel = "REASON",
      description = "Only dead letters of this dlq-reason (repeatable): unsupported-format, decode-error,"
          + " too-large, bad-shape, inference-error, expired (these carry no frame: the summary says"
          + " where each still is). Default: every reason.")
  List<String> reasons = new ArrayList<>();

  @Option(
      names = "--since",
      paramLabel = "WHEN",
      description = "Only dead letters written since WHEN: an instant (2026-11-30T08:00:00Z) or a"
          + " duration back from now (PT2H). Default: the topic's start.")
  String since;

  @Option(names = "--dry-run", description = "Count what would be replayed; send nothing.")
  boolean dryRun;

  @Option(
      names = "--idle-timeout",
      defaultValue = "PT1M",
      description = "Give up when nothing has been read for this long while dead letters are left to read"
          + " (the brokers gone): the summary so far, and exit 1 (ISO-8601, default: ${DEFAULT-VALUE}).")
  Duration idleTimeout;

  @Spec CommandSpec spec;

  /** Why the replay stopped short of the end, or null. */
  private String stalled;
  /** Set by Ctrl-C or SIGTERM. */
  private volatile boolean signalled;

  /**
   * Where the clients connect and what they read and write, from the options or the configuration;
   * {@code maxFrameBytes}: the largest frame a dead letter carries ({@code ingest.max.frame.bytes}).
   */
  private record Clients(
      Map<String, String> consumer, Map<String, String> producer, String from, String to, int maxFrameBytes) {}

  @Override
  public Integer call() throws Exception {
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      // PT0S gave up before the first poll, blaming the brokers.
      throw new ParameterException(spec.commandLine(), "--idle-timeout must be positive, was " + idleTimeout);
    }
    Clients clients = clients();
    if (clients.from().equals(clients.to())) {
      // A mistyped --from (the frames topic itself) copied the whole topic onto its own end.
      throw new ParameterException(spec.commandLine(), "--from and --to are both topic '" + clients.from()
          + "': replay sends dead letters from the dead-letter topic back to the frames topic");
    }
    Set<String> wanted = wantedReasons();
    Long sinceMs = sinceMillis();
    Tally tally = new Tally();
    CountDownLatch reported = new CountDownLatch(1);
    Thread onSignal = null;
    try {
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(clients.consumer()));
          KafkaProducer<byte[], byte[]> producer =
              dryRun ? null : new KafkaProducer<>(FrameProducers.config(clients.maxFrameBytes(), clients.producer()))) {
        onSignal = stopOnSignal(consumer, reported);
        replay(consumer, producer, clients, wanted, sinceMs, tally);
      } catch (WakeupException e) {
        // a signal outside the poll (taking the range, checking the positions): the summary so far
      }
      return report(tally, clients);
    } finally {
      reported.countDown(); // a signal's exit waits for this
      if (onSignal != null && !signalled) {
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException exiting) {
          // a signal since: the hook runs and finds the summary printed
        }
      }
    }
  }

  /**
   * Reads the range and sends what it selects, until the range's end, a signal, or brokers that
   * stopped answering ({@link #stalled}). A signal outside the poll throws {@link WakeupException}.
   */
  private void replay(
      KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer, Clients clients,
      Set<String> wanted, Long sinceMs, Tally tally) {
    String brokers = clients.consumer().get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    // The consumer first: a signal wakes it while it waits for brokers that do not answer, and
    // the producer's wait (for the --to topic) can be woken by nothing.
    Map<TopicPartition, Long> end =
        startReading(consumer, clients.from(), brokers, sinceMs);
    if (producer != null) {
      FrameProducers.requireTopic(producer, clients.to(), "--to");
    }
    long total = end.entrySet().stream().mapToLong(e -> e.getValue() - consumer.position(e.getKey())).sum();
    Progress progress = new Progress("replay", total, spec.commandLine().getErr());
    long lastRead = System.nanoTime();
    while (!signalled && !reachedEnd(consumer, end)) {
      if (System.nanoTime() - lastRead > idleTimeout.toNanos()) {
        // A consumer whose brokers are gone polls nothing, and the end it took at the start is
        // never reached: this loop went on for good.
        stalled = String.format(
            "read nothing for %s with %d dead letters left to read: do the brokers at %s answer? (--idle-timeout)",
            idleTimeout, left(consumer, end), brokers);
        break;
      }
      ConsumerRecords<byte[], byte[]> letters;
      try {
        letters = consumer.poll(POLL);
      } catch (OffsetOutOfRangeException e) {
        tally.deleted += skipDeleted(consumer, e.offsetOutOfRangePartitions(), end);
        continue;
      } catch (WakeupException e) {
        break; // a signal: the summary of what went, below
      }
      if (!letters.isEmpty()) {
        lastRead = System.nanoTime();
      }
      for (ConsumerRecord<byte[], byte[]> letter : letters) {
        if (letter.offset() >= end.get(new TopicPartition(letter.topic(), letter.partition()))) {
          continue; // written after the start: the next replay's
        }
        String reason = header(letter.headers(), PredictionPublisher.DLQ_REASON_HEADER);
        if (reason == null) {
          // Not a dead letter (gapstream gives each its reason): --from naming the predictions
          // topic sent prediction JSON in as frames.
          tally.passedOver(NOT_A_DEAD_LETTER);
        } else if (!wanted.isEmpty() && !wanted.contains(reason)) {
          tally.passedOver(reason);
        } else if (letter.value() == null) {
          tally.withoutFrame(header(letter.headers(), PredictionPublisher.DLQ_SOURCE_HEADER));
        } else {
          tally.replayed(reason);
          if (producer != null) {
            producer.send(frame(letter, clients.to()), (meta, e) -> {
              FrameProducers.keepFirst(tally.firstFailure, e);
              (e == null ? tally.sent : tally.failed).incrementAndGet();
            });
          }
        }
        progress.update(tally.read, tally.failed.get());
      }
    }
    if (producer != null) {
      producer.flush();
    }
    progress.finish(tally.read, tally.failed.get());
  }

  /**
   * Ctrl-C or SIGTERM: the replay stops at its next poll, sends what it has read, and prints its
   * summary before the JVM exits ({@link #SIGNAL_WAIT} at most). It used to exit at once, records
   * left in the producer's buffer and no word of how far it had got.
   */
  private Thread stopOnSignal(KafkaConsumer<byte[], byte[]> consumer, CountDownLatch reported) {
    Thread hook = new Thread(() -> {
      signalled = true;
      try {
        consumer.wakeup();
      } catch (RuntimeException closed) {
        // the replay has ended already
      }
      try {
        reported.await(SIGNAL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "replay-signal");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  private int report(Tally tally, Clients clients) throws Exception {
    Map<String, Object> summary = tally.summary(clients.from(), clients.to(), dryRun);
    summary.put("interrupted", signalled);
    spec.commandLine().getOut().println(JSON.writeValueAsString(summary));
    spec.commandLine().getOut().flush();
    if (signalled) {
      spec.commandLine().getErr().printf(
          "replay: stopped by a signal after reading %d dead letters (%d sent); a replay from the start sends"
              + " these again%n", tally.read, tally.sent.get());
      spec.commandLine().getErr().flush();
      return SIGNALLED;
    }
    if (stalled != null) {
      spec.commandLine().getErr().println("replay: gave up: " + stalled);
      return 1;
    }
    if (tally.deleted > 0) {
      spec.commandLine().getErr().printf(
          "replay: %d offsets were deleted before they were read (the topic's retention, or deleted records):"
              + " up to %d dead letters, whose frames are lost%n", tally.deleted, tally.deleted);
      return 1;
    }
    return tally.failed.get() == 0 ? 0 : 1;
  }

  /**
   * Moves past dead letters deleted from under the replay, after it took its range and before it
   * read them (retention ran, or someone deleted records), to the first one left; returns how many
   * offsets were lost: an upper bound on the dead letters, as an exactly-once pipeline's transaction
   * markers take offsets too, and letters {@code --reason} or {@code --since} would have passed
   * over count as well. A partition with none left is paused: its fetches would fail for ever. Kafka's own
   * {@code auto.offset.reset} would have moved on without a word, to the start, or with {@code
   * latest} (its default) to the end, skipping the rest of the partition.
   */
  private static long skipDeleted(
      KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> outOfRange, Map<TopicPartition, Long> end) {
    Map<TopicPartition, Long> first = consumer.beginningOffsets(outOfRange.keySet());
    long lost = 0;
    for (Map.Entry<TopicPartition, Long> e : outOfRange.entrySet()) {
      TopicPartition tp = e.getKey();
      long at = e.getValue();
      long last = end.get(tp);
      // Past the log's end instead: the partition was emptied or made anew, and what was left is gone.
      long resume = first.get(tp) > at ? Math.min(first.get(tp), last) : last;
      lost += Math.max(0, resume - at);
      consumer.seek(tp, resume);
      if (resume >= last) {
        consumer.pause(List.of(tp));
      }
    }
    return lost;
  }

  /** Dead letters between the consumer's positions and the end taken at the start. */
  private static long left(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().mapToLong(e -> Math.max(0, e.getValue() - consumer.position(e.getKey()))).sum();
  }

  /** What a replay read, and what became of it. */
  private static final class Tally {
    long read;
    final Map<String, Long> replayed = new TreeMap<>();
    final Map<String, Long> passedOver = new TreeMap<>();
    long withoutFrame;
    final List<String> withoutFrameSources = new ArrayList<>();
    /** Deleted before they were read: lost. */
    long deleted;
    /** Sends acknowledged, and failed: counted on the producer's thread. */
    final AtomicLong sent = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    void replayed(String reason) {
      read++;
      replayed.merge(reason, 1L, Long::sum);
    }

    void passedOver(String reason) {
      read++;
      passedOver.merge(reason, 1L, Long::sum);
    }

    void withoutFrame(String source) {
      read++;
      withoutFrame++;
      if (withoutFrameSources.size() < LISTED) {
        withoutFrameSources.add(source);
      }
    }

    Map<String, Object> summary(String from, String to, boolean dryRun) {
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("from", from);
      summary.put("to", to);
      summary.put("dryRun", dryRun);
      summary.put("read", read);
      summary.put("replayed", replayed);
      summary.put("sent", sent.get());
      summary.put("failed", failed.get());
      if (firstFailure.get() != null) {
        summary.put("firstFailure", firstFailure.get().toString());
      }
      summary.put("passedOver", passedOver);
      summary.put("withoutFrame", withoutFrame);
      summary.put("withoutFrameSources", withoutFrameSources);
      summary.put("deleted", deleted);
      return summary;
    }
  }

  /**
   * Assigns every partition of the dead-letter topic, at its start or at {@code sinceMs}, and
   * returns where each ends now: what this replay reads.
   */
  private Map<TopicPartition, Long> startReading(
      KafkaConsumer<byte[], byte[]> consumer, String from, String brokers, Long sinceMs) {
    List<TopicPartition> partitions;
    try {
      partitions = consumer.partitionsFor(from).stream() // waits default.api.timeout.ms
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .toList();
    } catch (WakeupException e) {
      throw e; // a signal while waiting for the brokers: the summary, not "cannot read"
    } catch (KafkaException e) {
      throw new GapstreamException(String.format(
          "cannot read dead letters from topic '%s' at %s (do the brokers answer?): %s", from, brokers, e.getMessage()), e);
    }
    if (partitions.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--from: topic '" + from + "' does not exist");
    }
    consumer.assign(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    if (sinceMs == null) {
      consumer.seekToBeginning(partitions);
    } else {
      Map<TopicPartition, Long> at = new HashMap<>();
      partitions.forEach(tp -> at.put(tp, sinceMs));
      Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(at);
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp first = found.get(tp);
        consumer.seek(tp, first == null ? end.get(tp) : first.offset()); // none since: nothing to read
      }
    }
    return end;
  }

  private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  /**
   * The frame a dead letter carries, as it first came: its key, value and headers without the
   * {@code dlq-*} ones, and its frame id kept (see the class comment).
   */
  private static ProducerRecord<byte[], byte[]> frame(ConsumerRecord<byte[], byte[]> letter, String to) {
    ProducerRecord<byte[], byte[]> frame = new ProducerRecord<>(to, letter.key(), letter.value());
    for (Header h : letter.headers()) {
      if (!h.key().startsWith("dlq-")) {
        frame.headers().add(h);
      }
    }
    String source = header(letter.headers(), PredictionPublisher.DLQ_SOURCE_HEADER);
    if (frame.headers().lastHeader(Frame.FRAME_ID_HEADER) == null && source != null) {
      frame.headers().add(Frame.FRAME_ID_HEADER, source.getBytes(StandardCharsets.UTF_8));
    }
    return frame;
  }

  private static String header(Headers headers, String key) {
    Header h = headers.lastHeader(key);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private Set<String> wantedReasons() {
    Set<String> known = Set.copyOf(RejectReason.wireNames());
    for (String r : reasons) {
      if (!known.contains(r)) {
        throw new ParameterException(spec.commandLine(),
            "--reason: unknown dlq-reason '" + r + "'; one of " + known.stream().sorted().toList());
      }
    }
    return Set.copyOf(reasons);
  }

  private Long sinceMillis() {
    if (since == null) {
      return null;
    }
    try {
      return since.startsWith("P") || since.startsWith("p")
          ? System.currentTimeMillis() - Duration.parse(since).toMillis()
          : Instant.parse(since).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new ParameterException(spec.commandLine(),
          "--since: '" + since + "' is neither an instant (2026-11-30T08:00:00Z) nor a duration (PT2H)");
    }
  }

  /**
   * With {@code -b}: those brokers and {@code -X}. Without: the service's configuration, as {@code
   * run} loads it, with {@code -X} on top. Either way the configuration's topics (where {@code
   * --from} and {@code --to} do not name others; with {@code -b} they were the standard names, so
   * {@code --set topics.dlq=...} read {@code frames.dlq}), and a producer that takes frames as large
   * as its {@code ingest.max.frame.bytes}.
   */
  private Clients clients() {
    GapstreamConfig service = config.load(Map.of());
    int maxFrameBytes = service.ingest().maxFrameBytes();
    if (bootstrapServers != null) {
      KafkaClientOptions.check(bootstrapServers, properties);
      Map<String, String> client = new LinkedHashMap<>(properties);
      client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      return new Clients(
          client, client,
          from != null ? from : service.topics().dlq(),
          to != null ? to : service.topics().frames(),
          maxFrameBytes);
    }
    if (service.kafka().useEmbedded()) {
      throw new ParameterException(spec.commandLine(),
          "replay needs a broker: -b HOST:PORT, or " + ConfigKeys.KAFKA_BOOTSTRAP_SERVERS + " in the configuration");
    }
    KafkaClientOptions.check(properties);
    Map<String, String> consumer = new LinkedHashMap<>(service.kafka().consumer());
    Map<String, String> producer = new LinkedHashMap<>(service.kafka().producer());
    for (Map<String, String> client : List.of(consumer, producer)) {
      client.putAll(properties);
      client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, service.kafka().bootstrapServers());
    }
    return new Clients(
        consumer, producer,
        from != null ? from : service.topics().dlq(),
        to != null ? to : service.topics().frames(),
        maxFrameBytes);
  }

  private static Properties consumerConfig(Map<String, String> client) {
    Properties p = new Properties();
    // How long metadata and offsets are waited for (Kafka's default is a minute): brokers that do
    // not answer are reported after this; -X default.api.timeout.ms sets another.
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(FrameProducers.TOPIC_WAIT.toMillis()));
    p.putAll(client);
    // The replay's own, whatever the service's consumer settings (--config) or -X say: a service
    // may well run with auto.offset.reset=latest, which here would skip dead letters unsaid.
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // Dead letters deleted under the replay are counted and skipped (skipDeleted), not jumped over.
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    // A misspelt --from must be an error, not a new, empty topic on a broker that creates topics.
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    // An exactly-once pipeline's aborted dead letters are not dead letters.
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }
}
