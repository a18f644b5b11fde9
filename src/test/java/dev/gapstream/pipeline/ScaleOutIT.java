package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.PromText;
import dev.gapstream.testing.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three gapstream processes in one consumer group share a four-partition frames topic. With no
 * crash, each key's predictions come out in input order and none twice; then one process is killed
 * mid-stream, its partitions move to the others, and nothing is lost.
 */
class ScaleOutIT {

  private static final String GROUP = "gapstream";
  private static final int KEYS = 16;
  /**
   * The event loop's limit in each replica: three JVMs and the broker share two cores here, and a
   * runnable loop waited 161 ms for one (in {@code LockSupport.unpark}). A block longer than this
   * still fails the test; the single-process tests hold the loop to 100 ms.
   */
  private static final Duration SHARED_CORES_LIMIT = Duration.ofMillis(500);

  @TempDir Path dir;
  private final List<ServiceProcess> processes = new ArrayList<>();

  @AfterEach
  void stopAll() {
    ServiceProcess.closeAll(processes);
  }

  @Test
  void threeProcessesShareThePartitionsKeepKeyOrderAndSurviveLosingOne() throws Exception {
    try (EmbeddedKafka broker = KafkaState.brokerWithTopics(4);
        Admin admin = broker.admin()) {
      Map<String, String> settings = new HashMap<>(ProcessRecoveryIT.SHORT_SESSION);
      settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
      settings.put("kafka.group.id", GROUP);
      for (int i = 0; i < 3; i++) {
        processes.add(ServiceProcess.start("replica-" + i, dir, settings, List.of("-Xmx256m"), SHARED_CORES_LIMIT));
      }
      for (ServiceProcess p : processes) {
        p.awaitRunning(Duration.ofSeconds(90)).awaitReady(Duration.ofSeconds(90));
      }
      await().atMost(Duration.ofMinutes(1)).until(() -> stableWithEveryPartition(admin, 3));
      System.out.println("scale-out assignment: " + assignment(admin));

      FrameFeed ordered = new FrameFeed(broker.bootstrapServers(), "frames", "ordered", KEYS, FrameFeed.jpegs(16, 64, 64, 6));
      int orderedFrames = 800;
      List<String> orderedIds = ordered.ids(orderedFrames);
      try (Outputs out = Outputs.read(broker.bootstrapServers())) {
        ordered.send(0, orderedFrames, 400);
        Outputs.Tally a = out.await(orderedIds, Duration.ofMinutes(2));
        Outputs.Tally settledA = out.settle(orderedIds, Duration.ofSeconds(2));
        List<Double> received = new ArrayList<>();
        for (ServiceProcess p : processes) {
          received.add(PromText.parse(p.body("/metrics")).sum("gapstream_frames_received_total"));
        }
        System.out.println("scale-out, no crash: " + settledA + "; frames received per process " + received);
        assertThat(a.lost()).as(a.toString()).isZero();
        assertThat(settledA.duplicates()).isZero();
        assertThat(settledA.both()).as("frames both predicted and dead-lettered").isZero();
        assertThat(received).as("every process took a share").allMatch(r -> r > 0);
        assertThat(received.stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(orderedFrames);
        out.perKeyOrder().forEach((key, frameIds) -> {
          List<Integer> order = frameIds.stream().map(id -> Integer.parseInt(id.substring(id.lastIndexOf('-') + 1))).toList();
          assertThat(order).as("predictions of %s in input order", key).isSorted();
        });
        assertThat(out.perKeyOrder()).hasSize(KEYS);

        FrameFeed crash = new FrameFeed(broker.bootstrapServers(), "frames", "crash", KEYS, FrameFeed.jpegs(16, 64, 64, 7));
        int crashFrames = 1_200;
        List<String> crashIds = crash.ids(crashFrames);
        Thread sender = new Thread(() -> {
          try {
            crash.send(0, crashFrames, 400);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        sender.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> out.tally(crashIds).predicted() >= crashFrames / 3);
        ServiceProcess victim = processes.get(1);
        victim.kill();
        victim.awaitExit(Duration.ofSeconds(30));
        long killedAt = System.nanoTime();
        await().atMost(Duration.ofMinutes(1)).until(() -> stableWithEveryPartition(admin, 2));
        double moveSeconds = (System.nanoTime() - killedAt) / 1e9;
        String after = assignment(admin);
        sender.join(TimeUnit.MINUTES.toMillis(2));
        Outputs.Tally b = out.await(crashIds, Duration.ofMinutes(2));
        double doneSeconds = (System.nanoTime() - killedAt) / 1e9;
        Outputs.Tally tallyB = out.tally(crashIds); // a kill -9 may duplicate: no wait for them
        System.out.printf(
            "scale-out, kill -9 of one of three: partitions moved in %.1f s (%s); all done %.1f s after the kill; %s%n",
            moveSeconds, after, doneSeconds, tallyB);
        assertThat(b.lost()).as(b.toString()).isZero();
        assertThat(tallyB.predicted()).isEqualTo(crashFrames);
      }
    }
  }

  private static boolean stableWithEveryPartition(Admin admin, int members) throws Exception {
    ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
    long partitions = group.members().stream().mapToLong(m -> m.assignment().topicPartitions().size()).sum();
    return group.groupState() == GroupState.STABLE && group.members().size() == members && partitions == 4;
  }

  private static String assignment(Admin admin) throws Exception {
    Map<String, List<Integer>> byMember = new TreeMap<>();
    for (MemberDescription m : admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP).members()) {
      // Every replica's client id is the same; the member id ends in a unique suffix.
      byMember.put("member-" + m.consumerId().substring(Math.max(0, m.consumerId().length() - 6)),
          m.assignment().topicPartitions().stream().map(tp -> tp.partition()).sorted().toList());
    }
    return byMember.toString();
  }
}
