package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A replica whose predictions topic does not exist, on a cluster that does not create topics on
 * demand: it stays unready and out of the consumer group, says which key names the missing topic,
 * and takes no frames; once the topic is created it joins and predicts every frame sent meanwhile.
 * While its first lookup still waits, it warns why nothing is consumed. The same for a predictions
 * topic it may not write to.
 */
@ExtendWith(BlockedThreadGuard.class)
class OutputTopicsIT {

  private static final int FRAMES = 20;

  /**
   * Producer limits a config provider gives ({@code ${file:...}}) are read as the producer reads
   * them, and the replica finds its topics and becomes ready: a provided {@code max.block.ms} failed
   * the start with a bare NumberFormatException, a provided {@code max.request.size} every lookup.
   */
  @Test
  void producerLimitsAConfigProviderGivesAreReadAndTheReplicaServes(@TempDir Path tmp) throws Exception {
    Path secrets = Files.writeString(tmp.resolve("producer.properties"), "block=20000\nrequest=4194304\n");
    try (GapstreamService service = TestPipelines.start(PipelineSettingsTest.fileProvided(
        "producer", secrets, Map.of("max.block.ms", "block", "max.request.size", "request")))) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(TestPipelines.get(service, "/health/ready").statusCode()).isEqualTo(200));
    }
  }

  /**
   * A replica stopped while it still looks up a missing predictions topic closes its consumer:
   * Vert.x's close of a stream that never started did nothing, and the consumer stayed open (its
   * connections, metrics, JMX registration) after the service had stopped.
   */
  @Test
  void aReplicaStoppedBeforeItSubscribedClosesItsConsumer() throws Exception {
    try (EmbeddedKafka broker =
        EmbeddedKafka.builder().brokerProperty("auto.create.topics.enable", "false").start()) {
      broker.createTopic("frames", 1);
      broker.createTopic("frames.dlq", 1);
      Set<ObjectName> before = consumers();
      GapstreamService service = GapstreamService.start(
          TestPipelines.config(Map.of(
              "kafka.bootstrap.servers", broker.bootstrapServers(), "kafka.producer.max.block.ms", "1000")),
          TestPipelines.TIGHT);
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> !difference(consumers(), before).isEmpty());
        assertThat(TestPipelines.get(service, "/health/ready").statusCode()).isEqualTo(503);
      } finally {
        service.close();
      }
      assertThat(difference(consumers(), before)).as("consumers left open by the stopped replica").isEmpty();
    }
  }

  /** The Kafka consumers open in this JVM, by their JMX registration. */
  private static Set<ObjectName> consumers() throws Exception {
    return ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("kafka.consumer:type=app-info,*"), null);
  }

  private static Set<ObjectName> difference(Set<ObjectName> now, Set<ObjectName> before) {
    Set<ObjectName> added = new HashSet<>(now);
    added.removeAll(before);
    return added;
  }

  @Test
  void aMissingPredictionsTopicKeepsTheReplicaOutOfTheGroupUntilItExists() throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger pipelineLog = (Logger) LoggerFactory.getLogger(PipelineVerticle.class);
    pipelineLog.addAppender(log);
    try (EmbeddedKafka broker =
            EmbeddedKafka.builder().brokerProperty("auto.create.topics.enable", "false").start();
        Admin admin = broker.admin()) {
      broker.createTopic("frames", 2);
      broker.createTopic("frames.dlq", 1);
      GapstreamService service =
          GapstreamService.start(
              TestPipelines.config(Map.of(
                  "kafka.bootstrap.servers", broker.bootstrapServers(),
                  // How long one lookup waits for the topic's metadata: the retries come sooner.
                  "kafka.producer.max.block.ms", "1000")),
              TestPipelines.TIGHT);
      try {
        FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "topics", 4, FrameFeed.jpegs(4, 64, 64, 7));
        List<String> ids = feed.ids(FRAMES);
        feed.send(0, FRAMES, 200);

        // Half the lookup's wait (at most 5 s) into the first lookup, before its error: why nothing is consumed.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(lines(log, Level.WARN)).anySatisfy(line -> assertThat(line)
                .contains("Not consuming frames yet: still looking up the output topics")
                .contains("'predictions' (topics.predictions) and 'frames.dlq' (topics.dlq)")
                .contains("waits up to 1000 ms (kafka.producer.max.block.ms) for brokers that do not answer"
                    + " (kafka.bootstrap.servers " + broker.bootstrapServers() + ") or a topic the cluster does not have")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(lines(log, Level.ERROR)).anySatisfy(line -> assertThat(line)
                .contains("Not consuming frames until the pipeline can publish")
                .contains("cannot publish to topic 'predictions' (topics.predictions)")
                .contains("Topic predictions not present in metadata after 1000 ms")));
        // Several lookups later, still out.
        await().atMost(Duration.ofSeconds(30)).until(() -> lines(log, Level.ERROR).size() >= 3);
        List<String> all = lines(log, null);
        assertThat(all).as("warned once, not at every retry")
            .filteredOn(line -> line.contains("still looking up")).hasSize(1);
        assertThat(indexOf(all, "still looking up")).as("the warning comes before the first lookup gives up")
            .isLessThan(indexOf(all, "Not consuming frames until the pipeline can publish"));
        HttpResponse<String> ready = TestPipelines.get(service, "/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(ready.body()).getJsonObject("checks").getBoolean("topics")).isFalse();
        assertThat(new JsonObject(ready.body()).getJsonObject("checks").getBoolean("kafka"))
            .as("the broker answers: a missing topic is not an outage").isTrue();
        assertThat(admin.listGroups().all().get()).as("nobody joined a group").isEmpty();

        broker.createTopic("predictions", 2);
        await().atMost(Duration.ofSeconds(60)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
        assertThat(new JsonObject(TestPipelines.get(service, "/health/ready").body()).getJsonObject("checks").getBoolean("topics"))
            .isTrue();
        try (Outputs out = Outputs.read(broker.bootstrapServers())) {
          Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
          assertThat(done.predicted()).as(done.toString()).isEqualTo(FRAMES);
          assertThat(done.lost()).isZero();
        }
        assertThat(KafkaState.members(admin, service.config().kafka().groupId())).isEqualTo(1);
      } finally {
        service.close();
      }
    } finally {
      pipelineLog.detachAppender(log);
    }
  }

  /**
   * The predictions topic exists but this principal may not write to it (an ACL allows everything
   * else): its metadata is found all the same, which used to be the whole check, so the replica
   * joined the group and took partitions whose every prediction the broker refused. Now it stays
   * unready and out of the group, saying why, until the ACL goes; then it predicts every frame.
   */
  @Test
  void aPredictionsTopicThePrincipalMayNotWriteKeepsTheReplicaOutOfTheGroup() throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger pipelineLog = (Logger) LoggerFactory.getLogger(PipelineVerticle.class);
    pipelineLog.addAppender(log);
    try (EmbeddedKafka broker = RefusedPredictionsIT.brokerWithAcls(2);
        Admin admin = broker.admin()) {
      RefusedPredictionsIT.refuseWrites(admin, "predictions", true);
      GapstreamService service =
          GapstreamService.start(TestPipelines.config(Map.of("kafka.bootstrap.servers", broker.bootstrapServers())), TestPipelines.TIGHT);
      try {
        FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "unwritable", 4, FrameFeed.jpegs(4, 64, 64, 9));
        List<String> ids = feed.ids(FRAMES);
        feed.send(0, FRAMES, 200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(lines(log, Level.ERROR)).anySatisfy(line -> assertThat(line)
                .contains("Not consuming frames until the pipeline can publish")
                .contains("cannot publish to topic 'predictions' (topics.predictions): the broker says this"
                    + " principal may not write to it")));
        await().atMost(Duration.ofSeconds(30)).until(() -> lines(log, Level.ERROR).size() >= 2);
        HttpResponse<String> ready = TestPipelines.get(service, "/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(ready.body()).getJsonObject("checks").getBoolean("topics")).isFalse();
        assertThat(admin.listGroups().all().get()).as("nobody joined a group").isEmpty();

        RefusedPredictionsIT.refuseWrites(admin, "predictions", false);
        await().atMost(Duration.ofSeconds(60)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
        try (Outputs out = Outputs.read(broker.bootstrapServers())) {
          Outputs.Tally done = out.await(ids, Duration.ofMinutes(1));
          assertThat(done.predicted()).as(done.toString()).isEqualTo(FRAMES);
          assertThat(done.lost()).isZero();
        }
      } finally {
        service.close();
      }
    } finally {
      pipelineLog.detachAppender(log);
    }
  }

  private static int indexOf(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }

  /** The pipeline's log lines at {@code level}, or at every level for null, in order. */
  private static List<String> lines(ListAppender<ILoggingEvent> log, Level level) {
    synchronized (log) { // AppenderBase appends under the appender's lock
      return log.list.stream()
          .filter(e -> level == null || e.getLevel() == level)
          .map(ILoggingEvent::getFormattedMessage)
          .toList();
    }
  }
}
